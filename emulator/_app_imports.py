"""`from convex.helpers import backoff` in a test, even where `convex` is the Convex client package.

Where `import convex` is the app's folder, Python imports it and the emulator shares the modules
(see `app.package_name`). Where the name belongs to the client (PyPI `convex`), this finder serves
`convex.<module>` from a `convex/` folder on sys.path: the very module the emulator runs.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from .app import import_app_modules, package_name


def _exists(folder: Path, parts: list[str]) -> bool:
    target = folder.joinpath(*parts)
    return target.with_suffix(".py").is_file() or target.is_dir()


class _Alias(importlib.abc.Loader):
    """Hands out a module already imported under the app's package name."""

    def __init__(self, module: ModuleType) -> None:
        self.module = module
        self.spec = module.__spec__

    def create_module(self, spec: Any) -> ModuleType:
        return self.module

    def exec_module(self, module: ModuleType) -> None:
        module.__spec__ = self.spec  # the import system set the alias's spec: keep the module's own


class AppModuleFinder(importlib.abc.MetaPathFinder):
    """Finds `convex.<module>` in a `convex/` folder on sys.path when `convex` itself is another package."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> Any:
        if not fullname.startswith("convex."):
            return None
        parts = fullname.split(".")
        if len(parts) > 2:  # convex.admin.users: served only under an aliased convex.admin
            real = getattr(sys.modules.get(".".join(parts[:-1])), "__name__", None)
            if real is None or real == ".".join(parts[:-1]):
                return None
            return _alias_spec(fullname, importlib.import_module(f"{real}.{parts[-1]}"))
        parent = sys.modules.get("convex")
        rest = parts[1:]
        if parent is None or any(_exists(Path(p), rest) for p in getattr(parent, "__path__", ()) or ()):
            return None  # `convex` is the app's own folder: Python finds its modules itself
        for entry in sys.path:
            folder = Path(entry or ".") / "convex"
            if folder.is_dir() and _exists(folder, rest):
                convex_dir = folder.resolve()
                import_app_modules(convex_dir)  # the whole app, as the emulator loads it
                return _alias_spec(fullname, importlib.import_module(f"{package_name(convex_dir)}.{rest[0]}"))
        return None


def _alias_spec(fullname: str, module: ModuleType) -> Any:
    return importlib.util.spec_from_loader(fullname, _Alias(module), is_package=hasattr(module, "__path__"))


def install() -> None:
    """Put the finder first on sys.meta_path (once)."""
    if not any(isinstance(finder, AppModuleFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, AppModuleFinder())


install()
