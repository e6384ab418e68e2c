"""A component's store: tables of its own, inside the transactions of the deployment's store.

Each component instance has its own tables (and its own `_scheduled_functions`), so no
function reads another's data. Its transaction state (undo log, commit hooks, new jobs) and
its id sequence are the app store's own, shared: a mutation that calls into components
commits or rolls back their writes with its own, and ids never repeat across components.
"""

from __future__ import annotations

from typing import Any

from convex_py._schema import SchemaDefinition

from ..store import Store

# Store attributes that belong to the deployment, not to one component's tables.
SHARED = ("undo", "on_commit", "on_rollback", "new_jobs", "jobs_committed", "_sequence",
          "_last_creation_time", "last_commit_ts", "write_observer")


def _shared(name: str) -> property:
    def get(self: "ComponentStore") -> Any:
        return getattr(self._root, name)

    def set(self: "ComponentStore", value: Any) -> None:
        if self._linked:  # Store.__init__ sets its own defaults: they must not reset the app's
            setattr(self._root, name, value)

    return property(get, set, doc=f"The deployment's `{name}` (shared with the app's store).")


class ComponentStore(Store):
    """The tables of one component instance, sharing the app store's transactions."""

    def __init__(self, root: Store, schema: SchemaDefinition | None, path: str) -> None:
        self._root = root
        self._linked = False
        self.live_prefix = f"{path}/"  # its tables' live-query keys: "path/table" (see Table.live_key)
        super().__init__(schema, root.limits, root.clock)
        self._linked = True


for _name in SHARED:
    setattr(ComponentStore, _name, _shared(_name))

__all__ = ["ComponentStore"]
