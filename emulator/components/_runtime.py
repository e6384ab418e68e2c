"""A component's runtime and `ctx.scheduler`: the app's runtime and scheduler, pointed at its tables.

A component runs its functions as the app does (same clock, limits and lock); while one
runs, `convex_py.create_function_handle` resolves against it. Its jobs go into its own
`_scheduled_functions` and wait in the deployment's one queue, so `advance` runs the jobs
of every component in time order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from convex_py._components import current_component

from ..runtime import Runtime
from ..scheduler import SchedulerFacade

if TYPE_CHECKING:
    from ..scheduler import Scheduler
    from ._node import ComponentNode


class ComponentRuntime(Runtime):
    """Runs one component instance's functions; a call made here is made inside the component."""

    def run_query(self, *args: Any, **kwargs: Any) -> Any:
        token = current_component.set(self.component)
        try:
            return super().run_query(*args, **kwargs)
        finally:
            current_component.reset(token)

    def run_mutation(self, *args: Any, **kwargs: Any) -> Any:
        token = current_component.set(self.component)
        try:
            return super().run_mutation(*args, **kwargs)
        finally:
            current_component.reset(token)

    def run_action(self, *args: Any, **kwargs: Any) -> Any:
        token = current_component.set(self.component)
        try:
            return super().run_action(*args, **kwargs)
        finally:
            current_component.reset(token)

    async def _action_async(self, *args: Any, **kwargs: Any) -> Any:
        token = current_component.set(self.component)  # the action's task may have a context of its own
        try:
            return await super()._action_async(*args, **kwargs)
        finally:
            current_component.reset(token)


class ComponentScheduler:
    """`ctx.scheduler` for a component's functions: rows in its tables, jobs in the app's queue."""

    def __init__(self, root: "Scheduler", node: "ComponentNode") -> None:
        self.root = root
        self.node = node
        self.clock = root.clock
        self.limits = root.limits
        self.store = node.store

    def facade(self, tx: Any, job_id: Any, is_async: bool) -> SchedulerFacade:
        return SchedulerFacade(self, tx, job_id, is_async)  # type: ignore[arg-type]

    def schedule(self, facade: SchedulerFacade, when: float, ref: Any, args: Any) -> Any:
        self.root.check_when(when)
        path, home = self.node.schedule_target(ref)
        return self.root.enqueue(facade, when, path, args, home)

    def cancel(self, job_id: Any, *, in_transaction: bool) -> None:
        self.root.cancel(job_id, in_transaction=in_transaction, store=self.store)


__all__ = ["ComponentRuntime", "ComponentScheduler"]
