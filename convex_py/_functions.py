"""The function decorators: `query`, `mutation`, `action` and their internal twins.

A decorated handler becomes a `ConvexFunction`, a plain description (kind,
visibility, validators, handler). How it runs is the emulator's business.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable
from typing import Any, Literal, overload

from ._validators import Validator, to_validator
from .errors import DirectCallWarning

FunctionKind = Literal["query", "mutation", "action"]
Visibility = Literal["public", "internal"]


class ConvexFunction:
    """A registered Convex function: what the decorators return."""

    __slots__ = ("kind", "visibility", "handler", "args_validator", "returns_validator", "is_async", "__dict__")

    def __init__(
        self,
        kind: FunctionKind,
        visibility: Visibility,
        handler: Callable[..., Any],
        args: Any = None,
        returns: Any = None,
    ) -> None:
        if not callable(handler):
            raise TypeError(f"@{_decorator_name(kind, visibility)} needs a function, got {handler!r}")
        self.kind = kind
        self.visibility = visibility
        self.handler = _two_argument(handler)
        self.args_validator: Validator | None = None if args is None else to_validator(args)
        self.returns_validator: Validator | None = None if returns is None else to_validator(returns)
        self.is_async = inspect.iscoroutinefunction(handler)
        self.__doc__ = getattr(handler, "__doc__", None)
        self.__name__ = getattr(handler, "__name__", "handler")
        self.__module__ = getattr(handler, "__module__", __name__)
        self.__qualname__ = getattr(handler, "__qualname__", self.__name__)

    @property
    def is_internal(self) -> bool:
        return self.visibility == "internal"

    def __call__(self, ctx: Any, args: Any = None) -> Any:
        """Run the handler directly, as Convex does (with a warning): prefer a helper function.

        Arguments are not validated and no new transaction starts. An `async def` handler
        returns an awaitable; called from an `async def` function, so does a plain one.
        """
        warnings.warn(DirectCallWarning(_direct_call_text(self)), stacklevel=2)
        if args is None:
            args = {}
        run = getattr(ctx, "_run_directly", None)
        if run is not None:  # an emulator ctx: it hands the handler a ctx of its own style
            return run(self, args)
        return self.handler(ctx, args)

    def __repr__(self) -> str:
        return f"<{_decorator_name(self.kind, self.visibility)} {self.__module__}.{self.__name__}>"


def _positional_count(handler: Callable[..., Any]) -> int | None:
    """How many positional parameters `handler` takes (None: any number, or unknown)."""
    try:
        parameters = inspect.signature(handler).parameters.values()
    except (TypeError, ValueError):
        return None
    count = 0
    for parameter in parameters:
        if parameter.kind is parameter.VAR_POSITIONAL:
            return None
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            count += 1
    return count


def _two_argument(handler: Callable[..., Any]) -> Callable[..., Any]:
    """`handler` called as `(ctx, args)`: one written `(ctx)` or `()`, as JavaScript's
    `handler: async (ctx) => ...` ports, gets only what it takes."""
    count = _positional_count(handler)
    if count is None or count >= 2:
        return handler
    if inspect.iscoroutinefunction(handler):
        async def adapted_async(ctx: Any, args: Any) -> Any:
            __tracebackhide__ = True
            return await handler(*(ctx, args)[:count])

        adapted: Callable[..., Any] = adapted_async
    else:
        def adapted(ctx: Any, args: Any) -> Any:
            __tracebackhide__ = True
            return handler(*(ctx, args)[:count])

    return functools.update_wrapper(adapted, handler)


def _direct_call_text(fn: ConvexFunction) -> str:
    runner = f"ctx.run_{fn.kind}"
    return (
        f"The {fn.kind} {fn.__name__}() was called directly. Convex functions should not directly call other "
        f"Convex functions. Consider calling a helper function instead (a plain function taking ctx), or "
        f"{runner}(...) with a reference to it. e.g. `@{_decorator_name(fn.kind, fn.visibility)} def foo(ctx, args): "
        "...` then `foo(ctx, {...})` is not supported. See "
        "https://docs.convex.dev/production/best-practices/#use-helper-functions-to-write-shared-code"
    )


def _decorator_name(kind: str, visibility: str) -> str:
    return f"internal_{kind}" if visibility == "internal" else kind


def _make_decorator(kind: FunctionKind, visibility: Visibility) -> Callable[..., Any]:
    name = _decorator_name(kind, visibility)

    @overload
    def decorator(handler: Callable[..., Any], /) -> ConvexFunction: ...

    @overload
    def decorator(*, args: Any = None, returns: Any = None) -> Callable[[Callable[..., Any]], ConvexFunction]: ...

    def decorator(handler: Any = None, /, *, args: Any = None, returns: Any = None) -> Any:
        if handler is not None:
            return ConvexFunction(kind, visibility, handler, args, returns)

        def wrap(fn: Callable[..., Any]) -> ConvexFunction:
            return ConvexFunction(kind, visibility, fn, args, returns)

        return wrap

    decorator.__name__ = decorator.__qualname__ = name
    decorator.__doc__ = (
        f"Declare a {'internal ' if visibility == 'internal' else ''}{kind}: `@{name}` or "
        f"`@{name}(args=..., returns=...)` on a handler `(ctx, args)`."
    )
    return decorator


query = _make_decorator("query", "public")
mutation = _make_decorator("mutation", "public")
action = _make_decorator("action", "public")
internal_query = _make_decorator("query", "internal")
internal_mutation = _make_decorator("mutation", "internal")
internal_action = _make_decorator("action", "internal")
