"""Loading an app: a `convex/` folder of Python modules, or modules given directly.

Each function is known by its path `"<module path>:<name>"`. Special modules:
`schema.py` (exports `schema` or `default`) and `crons.py` (exports `crons`).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.machinery
import importlib.util
import sys
import traceback
import types
from collections.abc import Mapping
from operator import is_
from pathlib import Path
from typing import Any

from convex_py._functions import ConvexFunction
from convex_py._http import HttpRouter
from convex_py._references import FunctionReference, normalize_path
from convex_py._schema import SchemaDefinition
from convex_py.errors import AppLoadError, FunctionNotFoundError, InvalidReferenceError

from ._app_folder import CONFIG_FILE, ModuleFolder, app_module_folder, find_convex_dir, module_folder

__all__ = ["App", "CONFIG_FILE", "find_convex_dir", "import_app_modules", "package_name"]


def _import_error(module_path: str, file: Path, exc: BaseException) -> AppLoadError:
    line = ""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if frame.filename and Path(frame.filename).resolve() == file:
            line = f", line {frame.lineno}"
            break
    if isinstance(exc, SyntaxError) and exc.lineno and not line:
        line = f", line {exc.lineno}"
    cron = getattr(exc, "cron_name", None)
    about = f"cron job {cron!r}: " if cron is not None else ""
    return AppLoadError(f"Failed to import convex/{module_path}.py{line}: {about}{type(exc).__name__}: {exc}")


_package_names: dict[Path, str] = {}


def _imports_as_convex(convex_dir: Path) -> bool:
    """Whether `import convex` is (or would be) this very folder, e.g. with the folder above it on sys.path."""
    if convex_dir.name != "convex":
        return False
    module = sys.modules.get("convex")
    if module is not None:
        locations = getattr(module, "__path__", None) or ()
    else:
        spec = importlib.machinery.PathFinder.find_spec("convex")
        locations = (spec.submodule_search_locations or ()) if spec is not None else ()
    return any(Path(location).resolve() == convex_dir for location in locations)


def package_name(convex_dir: Path) -> str:
    """The package an app's modules are imported as: `convex` when Python would import the folder by that name.

    Then a test's `from convex.helpers import backoff` and the emulator share one module (one state, the
    same function objects). Otherwise (e.g. `convex` is the Convex client) a private name, one per folder.
    """
    name = _package_names.get(convex_dir)
    if name is None:
        name = "convex" if _imports_as_convex(convex_dir) else (
            "_convex_app_" + hashlib.sha1(str(convex_dir).encode()).hexdigest()[:12]
        )
        _package_names[convex_dir] = name
    return name


def import_app_modules(convex_dir: Path) -> dict[str, types.ModuleType]:
    """Import every module of a `convex/` folder as one package (so relative imports work)."""
    return _import_modules(convex_dir, module_folder(convex_dir))


def _import_modules(convex_dir: Path, folder: ModuleFolder) -> dict[str, types.ModuleType]:
    package = package_name(convex_dir)
    if package not in sys.modules:
        init = convex_dir / "__init__.py"
        if init.exists():
            spec = importlib.util.spec_from_file_location(package, init, submodule_search_locations=[str(convex_dir)])
            assert spec is not None and spec.loader is not None
            pkg = importlib.util.module_from_spec(spec)
            sys.modules[package] = pkg
            try:
                spec.loader.exec_module(pkg)
            except BaseException as exc:
                del sys.modules[package]
                raise _import_error("__init__", init, exc) from exc
        else:
            pkg = types.ModuleType(package, f"The Convex app in {convex_dir}")
            pkg.__path__ = [str(convex_dir)]
            pkg.__package__ = package
            sys.modules[package] = pkg
    modules: dict[str, types.ModuleType] = {}
    for module_path, file in folder.modules:
        name = f"{package}.{module_path.replace('/', '.')}"
        try:
            modules[module_path] = importlib.import_module(name)
        except BaseException as exc:
            for key in [k for k in sys.modules if k == name or k.startswith(name + ".")]:
                del sys.modules[key]
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            raise _import_error(module_path, file, exc) from exc
    return modules


class _Loaded:
    """An App built from a folder's modules, and what it was built from: reused while every module is
    the same object in `sys.modules` holding the same globals (a reload, or a test's monkeypatch of a
    module, builds a new one)."""

    __slots__ = ("app", "modules")

    def __init__(self, app: "App", modules: dict[str, types.ModuleType]) -> None:
        self.app = app
        self.modules = [(module.__name__, module, tuple(vars(module).values())) for module in modules.values()]

    def current(self) -> bool:
        found = sys.modules
        for name, module, values in self.modules:
            if found.get(name) is not module:
                return False
            namespace = module.__dict__
            if len(namespace) != len(values) or not all(map(is_, namespace.values(), values)):
                return False
        return True


class App:
    """The functions, schema and crons of one app."""

    def __init__(
        self,
        modules: Mapping[str, Any],
        *,
        schema: SchemaDefinition | None = None,
        source: str = "<modules>",
    ) -> None:
        self.source = source
        self.functions: dict[str, ConvexFunction] = {}
        self._paths_by_function: dict[int, str] = {}
        self.schema = schema
        self.crons: Any = None
        self.http: HttpRouter | None = None  # the router of convex/http.py, if the app has one
        self._resolved: dict[Any, tuple[str, ConvexFunction]] = {}
        # Modules by their import name, to tell a function a module defines from one it imports.
        self._by_name = {
            module.__name__: module for module in modules.values()
            if not isinstance(module, Mapping) and isinstance(getattr(module, "__name__", None), str)
        }
        for module_path, module in modules.items():
            self._add_module(module_path.removesuffix(".py"), module)
        if self.schema is not None and not isinstance(self.schema, SchemaDefinition):
            raise AppLoadError(f"{source}: schema must come from define_schema(...), got {self.schema!r}")

    # Set by from_folder: the `convex/` folder, and whether it holds a `convex_config.py` (components).
    convex_dir: Path | None = None
    has_config = False

    @classmethod
    def from_folder(cls, app: str | Path, *, schema: SchemaDefinition | None = None) -> "App":
        """The app in a folder (the app folder or its `convex/` folder).

        Built once per folder and copied for each caller (every emulator has its own `App`), again
        when the folder's files or its modules changed (see `_Loaded`)."""
        folder = app_module_folder(app)
        convex_dir = folder.convex_dir
        loaded = folder.app
        if schema is None and cls is App and loaded is not None and loaded.current():
            return loaded.app._copy()
        modules = _import_modules(convex_dir, folder)
        made = cls(modules, schema=schema, source=str(convex_dir))
        made.convex_dir = convex_dir
        made.has_config = folder.has_config
        if schema is None and cls is App:
            folder.app = _Loaded(made, modules)
            return made._copy()
        return made

    def _copy(self) -> "App":
        """Another App of the same functions: its own function maps (a caller may change them), the same modules."""
        copy = App.__new__(App)
        copy.__dict__.update(self.__dict__)
        copy.functions = dict(self.functions)
        copy._paths_by_function = dict(self._paths_by_function)
        copy._resolved = {}
        return copy

    def _add_module(self, module_path: str, module: Any) -> None:
        members = module.items() if isinstance(module, Mapping) else vars(module).items()
        if module_path == "schema":
            if self.schema is None:
                found = dict(members).get("schema", dict(members).get("default"))
                self.schema = found
            return
        if module_path == "crons":
            self.crons = dict(members).get("crons", dict(members).get("default"))
            if not isinstance(module, Mapping):
                members = vars(module).items()
        if module_path == "http":
            self.http = _http_router(self.source, dict(members))
        own_module = getattr(module, "__name__", None)
        exported = getattr(module, "__all__", ()) if not isinstance(module, Mapping) else ()
        for name, member in members:
            if isinstance(member, ConvexFunction) and not name.startswith("_"):
                if member.__module__ != own_module and name not in exported and self._imported(member):
                    continue  # `from .other import fn`: fn is other's function, not this module's
                path = f"{module_path}:{name}"
                self.functions[path] = member
                key = id(member)
                if key not in self._paths_by_function or member.__module__ == own_module:
                    self._paths_by_function[key] = path

    def _imported(self, fn: ConvexFunction) -> bool:
        """True if another module of the app defines `fn` and exports it (so it is registered there).

        A function made elsewhere (a factory, a library) belongs to whichever module holds it; a
        module re-exports an imported function by listing it in `__all__`.
        """
        home = self._by_name.get(fn.__module__)
        return home is not None and any(value is fn for value in vars(home).values())

    def path_of(self, fn: ConvexFunction) -> str | None:
        return self._paths_by_function.get(id(fn))

    def resolve(self, ref: Any) -> tuple[str, ConvexFunction]:
        """(path, function) for a reference, a function object or a `"module:name"` string."""
        try:
            return self._resolved[ref]
        except (KeyError, TypeError):
            pass
        resolved = self._resolve(ref)
        if len(self._resolved) < 10_000:
            self._resolved[ref] = resolved
        return resolved

    def _resolve(self, ref: Any) -> tuple[str, ConvexFunction]:
        if isinstance(ref, ConvexFunction):
            path = self.path_of(ref)
            if path is None:
                raise FunctionNotFoundError(
                    f"Function {ref!r} is not exported by any module of this app ({self.source})."
                )
            return path, ref
        if isinstance(ref, FunctionReference):
            path = ref._path
        elif isinstance(ref, str):
            path = normalize_path(ref)
        else:
            raise InvalidReferenceError(
                f"Expected a function reference (api.module.fn, internal.module.fn, the function itself "
                f"or \"module:fn\"), got {ref!r}"
            )
        fn = self.functions.get(path)
        if fn is None:
            module = path.partition(":")[0]
            nearby = sorted(p for p in self.functions if p.startswith(module + ":"))
            hint = f" Functions in {module}: {', '.join(nearby)}." if nearby else ""
            raise FunctionNotFoundError(f"Could not find public function for '{path}'.{hint}")
        return path, fn


def _http_router(source: str, members: dict[str, Any]) -> HttpRouter:
    """The router `convex/http.py` exports, as `http` (or `default`)."""
    router = members.get("http", members.get("default"))
    if not isinstance(router, HttpRouter):
        found = f"`http` is {router!r}" if router is not None else "it exports no `http`"
        raise AppLoadError(
            f"{source}: convex/http.py must export its router as `http = http_router()` ({found})."
        )
    return router
