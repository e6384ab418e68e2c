"""Components and function handles: `define_component`, `define_app`, `components.<name>...`,
`create_function_handle`.

A component is a folder of Convex functions with tables of its own, installed in an
app by `app.use(...)` in `convex/convex_config.py`. Everything here is a description;
the emulator loads the folders and runs their functions.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Generator
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from .errors import ComponentError, InvalidReferenceError

HANDLE_PREFIX = "function://"
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# The component a function runs in, set by the emulator where a call crosses into a component
# (None: the app itself, or no function running). `create_function_handle` resolves against it.
current_component: ContextVar[Any] = ContextVar("convex_py_component", default=None)


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not _NAME.match(name):
        raise ComponentError(
            f"{what} must be an identifier (letters, digits and underscores, starting with a letter), got {name!r}"
        )
    return name


def _caller_folder(depth: int = 2) -> Path | None:
    """The folder of the module calling `define_component` (its `convex_config.py`)."""
    frame = sys._getframe(depth)
    file = frame.f_globals.get("__file__")
    return Path(file).resolve().parent if isinstance(file, str) else None


class _Installs:
    """What `use(...)` records: (name, definition) in the order installed."""

    def __init__(self) -> None:
        self.uses: list[tuple[str, ComponentDefinition]] = []

    def use(self, component: "ComponentDefinition", options: dict[str, Any] | None = None, *,
            name: str | None = None) -> None:
        """Install `component` under its own name, or under `name=` (to install it twice)."""
        if not isinstance(component, ComponentDefinition):
            raise ComponentError(
                f"use() takes a component definition (the value of a component's convex_config.py, made by "
                f"define_component(...)), got {component!r}"
            )
        if options is not None:  # Convex's `app.use(counter, { name: "counter2" })`
            if not isinstance(options, dict) or set(options) - {"name"}:
                raise ComponentError(f"use() options are {{\"name\": ...}}, got {options!r}")
            name = options.get("name", name)
        installed = component.name if name is None else _check_name(name, "A component's name in use(name=...)")
        if any(existing == installed for existing, _ in self.uses):
            raise ComponentError(
                f'Component name "{installed}" is already used; install it again with a different name= '
                f'(e.g. use({component.name}, name="{installed}2")).'
            )
        self.uses.append((installed, component))


class ComponentDefinition(_Installs):
    """A component: `define_component("name")` in the component folder's `convex_config.py`."""

    def __init__(self, name: str, folder: Path | None) -> None:
        super().__init__()
        self.name = _check_name(name, "define_component(name)")
        self.folder = folder
        # Other names `components.<name>` reaches it by when installed under its own name (a shipped
        # component answers to its npm package's name too: `rate_limiter` and `rateLimiter`).
        self.aliases: tuple[str, ...] = ()

    def __repr__(self) -> str:
        return f"<component {self.name} in {self.folder}>"


class AppDefinition(_Installs):
    """The app's components: `app = define_app()` in `convex/convex_config.py`, then `app.use(...)`."""

    def __repr__(self) -> str:
        return f"<app using {', '.join(name for name, _ in self.uses) or 'no components'}>"


def define_component(name: str) -> ComponentDefinition:
    """Define a component, in its folder's `convex_config.py` (the folder holds its schema and functions)."""
    return ComponentDefinition(name, _caller_folder())


def define_app() -> AppDefinition:
    """Define the app's use of components, in `convex/convex_config.py`."""
    return AppDefinition()


class ComponentReference:
    """`components.<name>.<module>.<function>`: a function of a component the caller installed.

    `components.<name>` alone names the component (what a component's client class takes).
    Like `api`, it is relative: inside a component, `components.x` is that component's child `x`.
    """

    __slots__ = ("_parts", "__dict__")

    def __init__(self, parts: tuple[str, ...]) -> None:
        self._parts = parts

    def __getattr__(self, name: str) -> "ComponentReference":
        if name.startswith("__"):
            raise AttributeError(name)
        child = ComponentReference(self._parts + (name,))
        self.__dict__[name] = child
        return child

    @property
    def _component(self) -> str:
        if not self._parts:
            raise InvalidReferenceError("`components` alone names no component: write `components.<name>...`.")
        return self._parts[0]

    @property
    def _path(self) -> str:
        """The function's path inside the component, `"module:function"`."""
        parts = self._parts
        if len(parts) < 3:
            raise InvalidReferenceError(
                f"`{self!r}` is not a function: write `components.<component>.<module>.<function>`."
            )
        return "/".join(parts[1:-1]) + ":" + parts[-1]

    def __repr__(self) -> str:
        return ".".join(("components",) + self._parts)

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, ComponentReference) and other._parts == self._parts

    def __hash__(self) -> int:
        return hash(("components",) + self._parts)


components: Any = ComponentReference(())
"""References into installed components: `components.<name>.<module>.<function>`."""


class FunctionHandle(str):
    """A function handle: a string (`"function://<component path>;<module>:<function>"`) that can be
    stored, passed to another component, and called or scheduled like a reference. It can also be
    awaited (to itself), as Convex's `await createFunctionHandle(...)`."""

    __slots__ = ()

    def __await__(self) -> Generator[Any, None, "FunctionHandle"]:
        return self
        yield  # pragma: no cover  (makes this a generator)


def is_handle(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(HANDLE_PREFIX)


def parse_handle(handle: str) -> tuple[str, str]:
    """(component path, `"module:function"`) of a handle; `""` is the app itself."""
    body = handle[len(HANDLE_PREFIX):] if is_handle(handle) else None
    if body is None or body.count(";") != 1:
        raise ComponentError(f"{handle!r} is not a function handle (\"function://<component>;<module>:<fn>\").")
    component, path = body.split(";")
    if ":" not in path or not path.partition(":")[0] or not path.partition(":")[2]:
        raise ComponentError(f"{handle!r} is not a function handle: {path!r} is not \"module:function\".")
    return component, path


def make_handle(component_path: str, path: str) -> FunctionHandle:
    return FunctionHandle(f"{HANDLE_PREFIX}{component_path};{path}")


def create_function_handle(ref: Any) -> FunctionHandle:
    """A handle to `ref` (an `api`/`internal`/`components` reference, the function, `"module:fn"`):
    a string another component can call or schedule (`ctx.run_*`, `ctx.scheduler`).

    Inside a function it names the function relative to the component running (and checks it
    exists); outside one, relative to the app.
    """
    node = current_component.get()
    if node is not None:
        return node.function_handle(ref)
    return _app_handle(ref)


def _app_handle(ref: Any) -> FunctionHandle:
    from ._functions import ConvexFunction
    from ._references import FunctionReference, normalize_path

    if is_handle(ref):
        parse_handle(ref)
        return FunctionHandle(ref)
    if isinstance(ref, ComponentReference):
        return make_handle(ref._component, ref._path)
    if isinstance(ref, FunctionReference):
        return make_handle("", ref._path)
    if isinstance(ref, str):
        return make_handle("", normalize_path(ref))
    if isinstance(ref, ConvexFunction):
        path = _path_from_module(ref)
        if path is not None:
            return make_handle("", path)
    raise InvalidReferenceError(
        f"create_function_handle() needs a function reference (api.module.fn, internal.module.fn, "
        f"components.name.module.fn or \"module:fn\"), got {ref!r}"
    )


def _path_from_module(fn: Any) -> str | None:
    """`"module:name"` of a function defined in a loaded app folder (its module knows the path)."""
    module = sys.modules.get(fn.__module__)
    package, _, rest = fn.__module__.partition(".")
    if module is None or not package.startswith("_convex_app_") or not rest:
        return None
    for name, value in vars(module).items():
        if value is fn and not name.startswith("_"):
            return f"{rest.replace('.', '/')}:{name}"
    return None


__all__ = [
    "AppDefinition",
    "ComponentDefinition",
    "ComponentReference",
    "FunctionHandle",
    "components",
    "create_function_handle",
    "define_app",
    "define_component",
]
