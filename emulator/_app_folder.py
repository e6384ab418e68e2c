"""An app's `convex/` folder and its module files, walked once and reused while the folders' listings stand.

A test suite builds an emulator per test from one folder: what the walk found is kept per folder and
checked with one `os.listdir` per folder walked (adding, removing or renaming a file changes its
folder's listing), so a module file added between two emulators is seen by the second.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from convex_py.errors import AppLoadError

__all__ = ["CONFIG_FILE", "ModuleFolder", "app_module_folder", "find_convex_dir", "module_folder"]

CONFIG_FILE = "convex_config.py"  # a folder's components (define_app / define_component), not a module
_SKIPPED_FILES = ("conftest.py",)


def _skipped_part(part: str) -> bool:
    return part.startswith(("__", ".")) or part == "_generated"


def _unchanged(listings: tuple[tuple[str, list[str]], ...]) -> bool:
    """Whether each folder still lists the names it did (same names, same order)."""
    try:
        for folder, names in listings:
            if os.listdir(folder) != names:
                return False
    except OSError:
        return False
    return True


# --- the app folder -> its convex/ folder -----------------------------------------------------

# (path as given, cwd for a relative one) -> (convex dir, the listing of the folder it was found in)
_convex_dirs: dict[tuple[str, str], tuple[Path, tuple[tuple[str, list[str]], ...]]] = {}


def _key(app: Any) -> tuple[str, str] | None:
    """How a cache knows an app folder as given: the path, and the cwd it is relative to."""
    raw = os.fspath(app) if isinstance(app, (str, os.PathLike)) else None
    if not isinstance(raw, str) or not raw or raw.startswith("~"):
        return None
    if os.path.isabs(raw):
        return (raw, "")
    try:
        return (raw, os.getcwd())
    except OSError:  # the working folder is gone: nothing relative to it is cached
        return None


def find_convex_dir(app: str | Path) -> Path:
    """The app's `convex/` folder: `app` itself if it holds modules directly, else `app/convex`."""
    key = _key(app)
    if key is not None:
        found = _convex_dirs.get(key)
        if found is not None and _unchanged(found[1]):
            return found[0]
    path = Path(app).expanduser()
    if not path.exists():
        raise AppLoadError(f"App folder {str(app)!r} does not exist.")
    if not path.is_dir():
        raise AppLoadError(f"App {str(app)!r} is not a folder: give the app folder or its convex/ folder.")
    try:  # taken before the checks below: a change after it shows in the next listing
        listing = ((os.path.abspath(path), os.listdir(path)),)
    except OSError:
        listing = None
    candidate = path / "convex"
    if candidate.is_dir():
        convex_dir = candidate.resolve()
    elif any(path.glob("*.py")):
        convex_dir = path.resolve()
    else:
        raise AppLoadError(f"App folder {str(app)!r} has no convex/ folder and no Python modules.")
    if key is not None and listing is not None:
        if len(_convex_dirs) > 256:
            _convex_dirs.clear()
        _convex_dirs[key] = (convex_dir, listing)
    return convex_dir


# --- the convex/ folder -> its module files ---------------------------------------------------


class ModuleFolder:
    """One walk of a `convex/` folder: its modules `(module path, file)` in path order, whether it has a
    `convex_config.py`, and the listings the walk read. `app` is free for the loader's cache of what
    it built from these files (see `emulator.app`)."""

    __slots__ = ("convex_dir", "modules", "has_config", "listings", "app")

    def __init__(self, convex_dir: Path, modules: list[tuple[str, Path]], has_config: bool,
                 listings: tuple[tuple[str, list[str]], ...]) -> None:
        self.convex_dir = convex_dir
        self.modules = modules
        self.has_config = has_config
        self.listings = listings
        self.app: Any = None


_folders: dict[str, ModuleFolder] = {}


def module_folder(convex_dir: Path) -> ModuleFolder:
    """The module files of a `convex/` folder: walked once, walked again when a listing changed."""
    key = str(convex_dir)
    folder = _folders.get(key)
    if folder is None or not _unchanged(folder.listings):
        if len(_folders) > 256:
            _folders.clear()
        folder = _folders[key] = _walk(convex_dir)
    return folder


# (app folder as given, cwd) -> its convex/ folder's walk. The walk's listings are enough to tell that
# find_convex_dir would answer the same: they include the convex/ folder's own (gone, or not a folder
# any more, it cannot be listed; an app folder that is its own convex/ folder lists a new `convex`).
_by_app: dict[tuple[str, str], ModuleFolder] = {}


def app_module_folder(app: str | Path) -> ModuleFolder:
    """`module_folder(find_convex_dir(app))`, checked with one `os.listdir` per folder walked."""
    key = _key(app)
    if key is not None:
        folder = _by_app.get(key)
        if folder is not None and _unchanged(folder.listings):
            return folder
    folder = module_folder(find_convex_dir(app))
    if key is not None:
        if len(_by_app) > 256:
            _by_app.clear()
        _by_app[key] = folder
    return folder


def _walk(convex_dir: Path) -> ModuleFolder:
    """What `os.walk` (not into symlinks) finds: `.py` modules, not tests, not `_generated`, `__*` or `.*`.

    A subfolder holding a `convex_config.py` is a component, not app modules: it is not walked (its
    listing is kept, so adding or removing its config shows). Each listing and the types of its
    entries come from one `scandir`, so what is kept is what the walk saw.
    """
    found: list[tuple[str, ...]] = []
    listings: list[tuple[str, list[str]]] = []
    has_config = False
    pending: list[tuple[str, tuple[str, ...], list[os.DirEntry[str]] | None]] = [(str(convex_dir), (), None)]
    while pending:
        folder, prefix, entries = pending.pop()
        if entries is None:
            entries = _entries(folder)
            if entries is None:  # kept as a listing that cannot match: the next call walks again
                listings.append((folder, []))
                continue
            listings.append((folder, [entry.name for entry in entries]))
        for entry in entries:
            name = entry.name
            if _is_dir(entry):
                if _skipped_part(name) or entry.is_symlink():
                    continue
                sub = _entries(entry.path)
                if sub is None:
                    listings.append((entry.path, []))
                    continue
                listings.append((entry.path, [e.name for e in sub]))
                if any(e.name == CONFIG_FILE and _is_file(e) for e in sub):
                    continue  # a component's folder
                pending.append((entry.path, (*prefix, name), sub))
                continue
            if not name.endswith(".py") or _skipped_part(name) or name in _SKIPPED_FILES:
                continue
            if not prefix and name == CONFIG_FILE:
                has_config = _is_file(entry)
                continue
            if name.startswith("test_") or name[:-3].endswith("_test"):
                continue
            found.append((*prefix, name))
    modules = [("/".join(parts)[:-3], convex_dir.joinpath(*parts)) for parts in sorted(found)]
    return ModuleFolder(convex_dir, modules, has_config, tuple(listings))


def _entries(folder: str) -> list[os.DirEntry[str]] | None:
    try:
        with os.scandir(folder) as it:
            return list(it)
    except OSError:  # as os.walk: a folder it cannot list is skipped
        return None


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_file(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_file()
    except OSError:
        return False
