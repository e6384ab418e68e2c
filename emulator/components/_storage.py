"""A component's file storage: its own `_storage` rows and bytes, behind the deployment's URLs.

Files are served and uploaded at the same origin as the app's (Convex's `/api/storage/...`),
signed with the deployment's secret; an upload URL a component hands out names the component
in its token, so the file lands in that component's `_storage`. Storage ids never repeat
across components (one id sequence), so the app's storage finds any file by id or uuid.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..storage import FileStorage

if TYPE_CHECKING:
    from ..store import Store


def _follow(name: str) -> property:
    def get(self: "ComponentFileStorage") -> Any:
        return getattr(self._root, name)

    def set(self: "ComponentFileStorage", value: Any) -> None:
        pass  # FileStorage.__init__ sets its own defaults; the deployment's stay in force

    return property(get, set, doc=f"The deployment's `{name}` (the app's storage holds it).")


class ComponentFileStorage(FileStorage):
    """The files of one component instance, under the deployment's origin, secret and --db tracking."""

    api_url = _follow("api_url")
    secret = _follow("secret")
    changed = _follow("changed")  # one set of changed ids for the --db file (ids are deployment-wide)

    def __init__(self, root: FileStorage, store: "Store", component_path: str) -> None:
        self._root = root
        super().__init__(store, root.clock, root.lock)
        self.component_path = component_path
        self._nonces = (f"{n}~{component_path}" for n in root._nonces)  # tokens name the component
        root.linked[component_path] = self


__all__ = ["ComponentFileStorage"]
