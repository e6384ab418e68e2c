"""Installing components: read `convex_config.py`, load each component folder, wire it in.

The app's `convex/convex_config.py` holds `define_app()` and its `use(...)` calls; a
component folder holds `define_component(...)` (with its own `use(...)` for components it
installs), `schema.py` and its function modules. One folder installed twice gives two
instances: the same functions, two sets of tables.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from convex_py._components import AppDefinition, ComponentDefinition, _check_name
from convex_py.errors import AppLoadError, ComponentError

from ..app import CONFIG_FILE, App, find_convex_dir, import_app_modules, package_name
from ..crons import CronRunner
from ..runtime_crons import RuntimeCronRunner
from ._node import ComponentNode
from ._runtime import ComponentRuntime, ComponentScheduler
from ._storage import ComponentFileStorage
from ._store import ComponentStore

if TYPE_CHECKING:
    from ..runtime import Runtime
    from ..scheduler import Scheduler


def _definition(module: Any, kind: type, file: Path) -> Any:
    found = [value for value in vars(module).values() if isinstance(value, kind)]
    if not found:
        made_by = "define_app()" if kind is AppDefinition else "define_component(\"name\")"
        raise AppLoadError(f"{file} defines no {made_by} at module level.")
    default = getattr(module, "default", None)
    if isinstance(default, kind):
        return default
    own = [value for value in found if kind is AppDefinition or value.folder == file.parent]
    return (own or found)[0]


def app_definition(convex_dir: Path) -> AppDefinition | None:
    """The `define_app()` of an app folder's `convex_config.py`, or None when it has none.

    It is imported as a module of the app's package, so `from .counter.convex_config import
    counter` (a component inside `convex/`) works as in Convex.
    """
    file = convex_dir / CONFIG_FILE
    if not file.is_file():
        return None
    package = package_name(convex_dir)
    if package not in sys.modules:
        import_app_modules(convex_dir)
    name = f"{package}.convex_config"
    try:
        module = importlib.import_module(name)
    except BaseException as exc:
        sys.modules.pop(name, None)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise AppLoadError(f"Failed to import convex/{CONFIG_FILE}: {type(exc).__name__}: {exc}") from exc
    return _definition(module, AppDefinition, file)


def _component_definition(folder: Path) -> ComponentDefinition | None:
    """The `define_component(...)` of a component folder, None if it has no `convex_config.py`."""
    file = folder / CONFIG_FILE
    if not file.is_file():
        return None
    package = package_name(folder)
    if package not in sys.modules:
        import_app_modules(folder)
    try:
        module = importlib.import_module(f"{package}.convex_config")
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise AppLoadError(f"Failed to import {file}: {type(exc).__name__}: {exc}") from exc
    return _definition(module, ComponentDefinition, file)


class Components:
    """The installed components of one emulator: a tree of nodes under the app's."""

    def __init__(self, runtime: "Runtime", scheduler: "Scheduler") -> None:
        self.registry: dict[str, ComponentNode] = {}
        self.root = ComponentNode("", "", runtime.app, runtime.store, runtime, None, self.registry)
        self.registry[""] = self.root
        self.scheduler = scheduler
        self._apps: dict[Path, App] = {}  # one App per folder, shared by its instances
        scheduler.router = self._route

    def _route(self, ref: Any) -> tuple[str, Any]:
        """How the app's scheduler resolves a reference (fast for its own functions)."""
        from convex_py._components import ComponentReference, is_handle

        if isinstance(ref, ComponentReference) or is_handle(ref):
            return self.root.schedule_target(ref)
        return self.scheduler._path(ref), None

    def install(self, definition: AppDefinition | ComponentDefinition, parent: ComponentNode | None = None) -> None:
        """Install what `definition.use(...)` lists, under `parent` (the app by default)."""
        for name, component in definition.uses:
            if component.folder is None:
                raise ComponentError(f"Component {component.name!r} was defined outside a file: its folder is unknown.")
            self.add(name, component.folder, parent, component)

    def add(self, name: str, folder: str | Path | ComponentDefinition, parent: ComponentNode | None = None,
            definition: ComponentDefinition | None = None) -> ComponentNode:
        """Load the component in `folder` and install it as `name` under `parent`."""
        _check_name(name, "A component's name")
        if isinstance(folder, ComponentDefinition):  # the definition itself knows its folder
            definition, folder = folder, folder.folder  # type: ignore[assignment]
            if folder is None:
                raise ComponentError(f"Component {definition.name!r} was defined outside a file: its folder is unknown.")
        parent = self.root if parent is None else parent
        if name in parent.children:
            raise ComponentError(f'Component name "{name}" is already used; give the second one another name.')
        try:
            folder = find_convex_dir(folder)
        except AppLoadError as exc:
            raise ComponentError(f"Component {name!r}: {exc}") from None
        if definition is None:
            definition = _component_definition(folder)
        app = self._apps.get(folder)
        if app is None:
            app = self._apps[folder] = App.from_folder(folder)
        root_runtime = self.root.runtime
        path = name if parent is self.root else f"{parent.path}/{name}"
        store = ComponentStore(root_runtime.store, app.schema, path)
        runtime = ComponentRuntime(app, store, root_runtime.clock, root_runtime.limits)
        runtime.lock = root_runtime.lock  # one deployment: one writer at a time, across components
        files = getattr(root_runtime, "storage", None)
        if files is not None:  # its own files, as its own tables (rows in its own `_storage`)
            runtime.storage = ComponentFileStorage(files, store, path)
        node = ComponentNode(name, path, app, store, runtime, parent, self.registry)
        runtime.scheduler = ComponentScheduler(self.scheduler, node)
        # Its crons: the jobs of its crons.py, and `convex_py.crons.Crons` called from its functions
        # (rows in its own `_crons`); both run in it, and log their runs in one list of its own.
        node.crons = CronRunner(self.scheduler, runtime)
        runtime.runtime_crons = RuntimeCronRunner(self.scheduler, runtime)
        runtime.runtime_crons.runs = node.crons.runs
        try:
            node.crons.deploy(app.crons)
        except AppLoadError as exc:
            raise ComponentError(f"Component {path!r}: {exc}") from None
        parent.children[name] = node
        self.registry[path] = node
        if definition is not None and name == definition.name:
            for alias in definition.aliases:
                parent.aliases.setdefault(alias, name)  # an installed child of that name comes first
        if definition is not None:
            self.install(definition, node)
        return node

    def node(self, path: str) -> ComponentNode:
        node = self.registry.get(path)
        if node is None:
            installed = ", ".join(sorted(p for p in self.registry if p)) or "none"
            raise ComponentError(f'Component "{path}" is not installed (installed: {installed}).')
        return node


__all__ = ["Components", "app_definition"]
