"""One installed component (or the app itself) and the calls that cross into another.

A node knows its functions (`app`), tables (`store`) and runtime, its children by name and
every node of the deployment by path (for function handles). Calls between nodes follow
Convex's rules: `components.<child>...` reaches a child's public functions, a handle reaches
any function of any node, and the caller's identity stays behind at the boundary.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from convex_py._components import (
    ComponentReference,
    FunctionHandle,
    current_component,
    is_handle,
    make_handle,
    parse_handle,
)
from convex_py._functions import ConvexFunction
from convex_py.errors import (
    ComponentError,
    FunctionKindError,
    FunctionNotFoundError,
    InvalidReferenceError,
    SchedulerError,
)

if TYPE_CHECKING:
    from ..app import App
    from ..runtime import Runtime
    from ..store import Store


class JobHome:
    """Where a scheduled job lives (the store holding its row) and what runs it (a runtime)."""

    __slots__ = ("store", "runtime")

    def __init__(self, store: "Store", runtime: "Runtime") -> None:
        self.store = store
        self.runtime = runtime


class ComponentNode:
    """The app (path `""`) or one installed component (path `"name"`, `"parent/name"`)."""

    def __init__(self, name: str, path: str, app: "App", store: "Store", runtime: "Runtime",
                 parent: "ComponentNode | None", registry: dict[str, "ComponentNode"]) -> None:
        self.name = name
        self.path = path
        self.app = app
        self.store = store
        self.runtime = runtime
        self.parent = parent
        self.children: dict[str, ComponentNode] = {}
        self.aliases: dict[str, str] = {}  # another name of a child -> its installed name
        self.registry = registry  # every node of the deployment, by path
        self._homes: dict[str, JobHome | None] = {}
        self.crons: Any = None  # its crons.py jobs (a CronRunner); the app's are the emulator's own
        runtime.component = self
        runtime.component_path = path

    def __repr__(self) -> str:
        return f"<component {self.path or '(app)'}>"

    # --- resolving ------------------------------------------------------------

    def target(self, kind: str | None, ref: Any) -> tuple["ComponentNode", str, ConvexFunction]:
        """(node, path, function) for `components.<child>...` or a handle, called from this node."""
        if isinstance(ref, ComponentReference):
            name = ref._component
            child = self.children.get(name)
            if child is None and name in self.aliases:
                child = self.children.get(self.aliases[name])
            if child is None:
                where = f"component '{self.path}'" if self.path else "this app"
                installed = ", ".join(sorted(self.children)) or "none"
                raise ComponentError(
                    f'Component "{name}" is not installed in {where} (installed: {installed}): add '
                    f"app.use(...) in convex_config.py, or t.register_component(\"{name}\", folder) in a test."
                )
            path = ref._path
            fn = child.app.functions.get(path)
            if fn is None or fn.visibility != "public":
                raise FunctionNotFoundError(f"Could not find public function for '{path}' in component '{child.path}'")
            node = child
        elif is_handle(ref):
            component, path = parse_handle(ref)
            node = self.registry.get(component)  # type: ignore[assignment]
            if node is None:
                raise ComponentError(f"Function handle {str(ref)!r} names component {component!r}, which is not installed.")
            fn = node.app.functions.get(path)
            if fn is None:
                where = f" in component '{component}'" if component else ""
                raise FunctionNotFoundError(f"Could not find function for '{path}'{where} (function handle {str(ref)!r})")
        else:
            raise InvalidReferenceError(f"{ref!r} is not a reference into a component or a function handle.")
        if kind is not None and fn.kind != kind:
            raise FunctionKindError.called_as(path, fn.kind, kind)
        return node, path, fn

    def function_handle(self, ref: Any) -> FunctionHandle:
        """`create_function_handle(ref)` for a function running in this node."""
        if is_handle(ref):
            self.target(None, ref)
            return FunctionHandle(ref)
        if isinstance(ref, ComponentReference):
            node, path, _fn = self.target(None, ref)
            return make_handle(node.path, path)
        path, _fn = self.app.resolve(ref)
        return make_handle(self.path, path)

    # --- calls across the boundary ------------------------------------------------

    def _identity(self, node: "ComponentNode", identity: Any) -> Any:
        return identity if node is self else None  # identity does not cross into another component

    def call(self, kind: str, ref: Any, args: Any, identity: Any, transaction_limits: Any = None, *,
             top_level: bool = False) -> Any:
        """A call in its own transaction (from an action, or a test when `top_level`)."""
        node, path, _fn = self.target(kind, ref)
        if not top_level:
            identity = self._identity(node, identity)
        token = current_component.set(node)
        try:
            return node.runtime.call(kind, path, args, identity, transaction_limits)
        finally:
            current_component.reset(token)

    def nested(self, kind: str, ref: Any, args: Any, identity: Any, tx: Any) -> Any:
        """`ctx.run_query`/`ctx.run_mutation` from a query or mutation: in the caller's transaction,
        reading and writing the target's tables, with a budget of its own."""
        node, path, _fn = self.target(kind, ref)
        if node is self:
            runtime = self.runtime
            return runtime.nested_query(path, args, identity, tx) if kind == "query" else \
                runtime.nested_mutation(path, args, identity, tx)
        tx.check_open()
        inner = type(tx)(node.runtime, tx.writable)
        inner.reads = tx.reads  # a live query's reads inside the component count as its own
        token = current_component.set(node)
        try:
            if kind == "query":
                return node.runtime.nested_query(path, args, None, inner)
            return node.runtime.nested_mutation(path, args, None, inner)
        finally:
            inner.open = False
            current_component.reset(token)

    def action_coroutine(self, ref: Any, args: Any, identity: Any,
                         transaction_limits: Any = None) -> Coroutine[Any, Any, Any]:
        """`await ctx.run_action(...)` into another component, from an async action."""
        node, path, _fn = self.target("action", ref)
        identity = self._identity(node, identity)

        async def run() -> Any:
            token = current_component.set(node)
            try:
                return await node.runtime.action_coroutine(path, args, identity, transaction_limits)
            finally:
                current_component.reset(token)

        return run()

    # --- scheduling ----------------------------------------------------------------

    def schedule_target(self, ref: Any) -> tuple[str, JobHome | None]:
        """(path, home) of a function this node schedules: its row goes in this node's
        `_scheduled_functions`, and it runs in the node the reference names."""
        if isinstance(ref, ComponentReference) or is_handle(ref):
            try:
                node, path, _fn = self.target(None, ref)
            except (FunctionNotFoundError, ComponentError) as exc:
                raise SchedulerError(f"Attempted to schedule function at nonexistent path: {ref!r} ({exc})") from None
        else:
            node = self
            try:
                path, _fn = self.app.resolve(ref)
            except FunctionNotFoundError:
                shown = ref if isinstance(ref, str) else getattr(ref, "_path", repr(ref))
                raise SchedulerError(f"Attempted to schedule function at nonexistent path: {shown}") from None
            except InvalidReferenceError as exc:
                raise SchedulerError(f"Cannot schedule {ref!r}: {exc}") from None
        return path, self.home_for(node)

    def home_for(self, node: "ComponentNode") -> JobHome | None:
        """The home of a job this node schedules to run in `node` (None: the app's own job)."""
        try:
            return self._homes[node.path]
        except KeyError:
            pass
        home = None if (self.path == "" and node.path == "") else JobHome(self.store, node.runtime)
        self._homes[node.path] = home
        return home


__all__ = ["ComponentNode", "JobHome"]
