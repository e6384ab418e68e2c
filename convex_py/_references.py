"""Function references: `api.orders.create_order`, `internal.emails.send`, and `"orders:create"`.

A reference is only a name; the emulator resolves it against the loaded app.
`api.admin.users.remove` names `"admin/users:remove"`, as in Convex.
"""

from __future__ import annotations

from typing import Any

from .errors import InvalidReferenceError


class FunctionReference:
    """A lazily built reference; attribute access goes one module level deeper."""

    __slots__ = ("_parts", "_visibility", "_cached_path", "__dict__")

    def __init__(self, parts: tuple[str, ...], visibility: str) -> None:
        self._parts = parts
        self._visibility = visibility
        self._cached_path: str | None = None

    def __getattr__(self, name: str) -> "FunctionReference":
        if name.startswith("__"):
            raise AttributeError(name)
        child = FunctionReference(self._parts + (name,), self._visibility)
        # Kept as an instance attribute: the next `api.x.y` is a plain attribute read.
        self.__dict__[name] = child
        return child

    @property
    def _path(self) -> str:
        path = self._cached_path
        if path is not None:
            return path
        if len(self._parts) < 2:
            root = "api" if self._visibility == "public" else "internal"
            raise InvalidReferenceError(
                f"`{root}.{'.'.join(self._parts)}` is a module, not a function: "
                f"write `{root}.<module>.<function>`."
            )
        self._cached_path = path = "/".join(self._parts[:-1]) + ":" + self._parts[-1]
        return path

    def __repr__(self) -> str:
        root = "api" if self._visibility == "public" else "internal"
        return ".".join((root,) + self._parts)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, FunctionReference) and other._parts == self._parts

    def __hash__(self) -> int:
        return hash(self._parts)


api: Any = FunctionReference((), "public")
"""References to public functions: `api.<module>.<function>`."""

internal: Any = FunctionReference((), "internal")
"""References to internal functions: `internal.<module>.<function>`."""


def get_function_name(ref: Any) -> str:
    """The `"module:function"` path a reference names (like Convex's `getFunctionName`)."""
    if isinstance(ref, FunctionReference):
        return ref._path
    if isinstance(ref, str):
        return normalize_path(ref)
    raise InvalidReferenceError(f"Expected a function reference, got {ref!r}")


def normalize_path(path: str) -> str:
    """`"orders:create"` stays; `"orders"` means `"orders:default"`; `.py` and `convex/` are dropped."""
    module, sep, name = path.partition(":")
    if not sep:
        name = "default"
    module = module.removeprefix("convex/").removesuffix(".py")
    if not module or not name:
        raise InvalidReferenceError(f"{path!r} is not a function path: expected \"module:function\"")
    return f"{module}:{name}"
