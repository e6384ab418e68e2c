"""Runtime crons, the `@convex-dev/crons` component's model: jobs registered from a mutation.

```python
from convex_py.crons import Crons
crons = Crons()

@mutation
def start(ctx, args):
    return crons.register(ctx, {"kind": "interval", "ms": 60_000}, internal.sync.run, {}, name="sync")
```

Jobs live in the database, so a registration commits or rolls back with the
mutation that makes it. The emulator runs them on its clock. Schedules:
`{"kind": "interval", "ms": n}` (n >= 1000; first run one interval after
registration) or `{"kind": "cron", "cronspec": "...", "tz": "Europe/Paris"}`
(five fields, or six with seconds first; an IANA time zone, UTC by default).
"""

from __future__ import annotations

from typing import Any

from .errors import ConvexPyError


def _backend(ctx: Any, method: str) -> Any:
    backend = getattr(ctx, "_runtime_crons", None)
    if backend is None:
        raise ConvexPyError(
            f"crons.{method} needs the ctx of a query or mutation run by convex-py (got {type(ctx).__name__}); "
            "from an action, call a mutation that registers the cron."
        )
    return backend


def _by(method: str, by: Any, id: Any, name: Any) -> tuple[Any, Any]:
    """`id=`/`name=`, or the component's own form: a dict `{"id": ...}` or `{"name": ...}` as second argument."""
    if by is None:
        return id, name
    if not isinstance(by, dict) or id is not None or name is not None or not by.keys() <= {"id", "name"}:
        raise TypeError(f'crons.{method}(ctx, id=... or name=...) (or {{"id": ...}} / {{"name": ...}}), got {by!r}')
    return by.get("id"), by.get("name")


def _ret(ctx: Any, value: Any) -> Any:
    return ctx._wrap_result(value) if hasattr(ctx, "_wrap_result") else value


class Crons:
    """Register, inspect, pause, resume and delete cron jobs at run time."""

    def register(self, ctx: Any, schedule: dict[str, Any], ref: Any, args: dict[str, Any] | None = None,
                 name: str | None = None) -> Any:
        """Register a job; returns its id. `name`, if given, must be unique."""
        return _ret(ctx, _backend(ctx, "register").register(schedule, ref, args, name))

    def get(self, ctx: Any, by: dict[str, Any] | None = None, /, *, id: str | None = None,
            name: str | None = None) -> Any:
        """The job with this id or name, or None."""
        id, name = _by("get", by, id, name)
        return _ret(ctx, _backend(ctx, "get").get(id=id, name=name))

    def list(self, ctx: Any) -> Any:
        """Every registered job, oldest first."""
        return _ret(ctx, _backend(ctx, "list").list())

    def pause(self, ctx: Any, by: dict[str, Any] | None = None, /, *, id: str | None = None,
              name: str | None = None) -> Any:
        """Stop running the job until it is resumed."""
        id, name = _by("pause", by, id, name)
        return _ret(ctx, _backend(ctx, "pause").set_paused(True, id=id, name=name))

    def resume(self, ctx: Any, by: dict[str, Any] | None = None, /, *, id: str | None = None,
               name: str | None = None) -> Any:
        """Run a paused job again, from its next time after now."""
        id, name = _by("resume", by, id, name)
        return _ret(ctx, _backend(ctx, "resume").set_paused(False, id=id, name=name))

    def delete(self, ctx: Any, by: dict[str, Any] | None = None, /, *, id: str | None = None,
               name: str | None = None) -> Any:
        """Remove the job; it never runs again."""
        id, name = _by("delete", by, id, name)
        return _ret(ctx, _backend(ctx, "delete").delete(id=id, name=name))


__all__ = ["Crons"]
