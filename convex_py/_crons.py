"""`cron_jobs()`: an app's cron jobs, declared in `crons.py`, checked as Convex checks them.

All times are UTC. Clock schedules (hourly, daily, weekly, monthly) become
five-field cron strings; `interval` keeps its period. The emulator runs them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ._references import FunctionReference, get_function_name
from .errors import CronDefinitionError

DAYS_OF_WEEK = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
_IDENTIFIER = re.compile(r"^[ -~]*$")
_UNIT_MS = {"seconds": 1000, "minutes": 60_000, "hours": 3_600_000}


@dataclass
class CronJob:
    """One cron job: its name, schedule, function path and arguments."""

    name: str
    schedule: dict[str, Any]
    function: Any
    args: dict[str, Any] = field(default_factory=dict)

    @property
    def interval_ms(self) -> int | None:
        """The period of an interval job, in ms (None for clock schedules)."""
        if self.schedule["type"] != "interval":
            return None
        for unit, ms in _UNIT_MS.items():
            if self.schedule.get(unit) is not None:
                return self.schedule[unit] * ms
        return None

    @property
    def cron_spec(self) -> str | None:
        """The five-field cron string of a clock schedule (None for intervals)."""
        return self.schedule.get("cron")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) or (isinstance(value, float) and value.is_integer())


def _hour(value: Any) -> int:
    if not _is_int(value) or not 0 <= value <= 23:
        raise CronDefinitionError("Hour of day must be an integer from 0 to 23")
    return int(value)


def _minute(value: Any) -> int:
    if value is None:
        return 0
    if not _is_int(value) or not 0 <= value <= 59:
        raise CronDefinitionError("Minute of hour must be an integer from 0 to 59")
    return int(value)


def _day_of_month(value: Any) -> int:
    if not _is_int(value) or not 1 <= value <= 31:
        raise CronDefinitionError("Day of month must be an integer from 1 to 31")
    return int(value)


def _day_of_week(value: Any) -> int:
    if value not in DAYS_OF_WEEK:
        raise CronDefinitionError('Day of week must be a string like "monday".')
    return DAYS_OF_WEEK.index(value)


def _schedule_dict(schedule: Any, method: str) -> dict[str, Any]:
    if not isinstance(schedule, dict):
        raise CronDefinitionError(f"crons.{method}: the schedule must be a dict, got {schedule!r}")
    return schedule


_SINGLE_RANGE = re.compile(r"^([0-9A-Za-z]+)-([0-9A-Za-z]+)(?:/[0-9]+)?$")


def croniter_spec(spec: str) -> str:
    """`spec` as croniter must read it to mean what Convex's parser (saffron) means.

    croniter 6.0.0 reads a range of one value (`5-5`, `1-1/2`) as the whole field (`*`);
    in Convex it is that value only, so such a range is written as the value itself.
    """
    fields = spec.split()
    for i, field_text in enumerate(fields):
        if "-" in field_text:
            parts = field_text.split(",")
            for j, part in enumerate(parts):
                match = _SINGLE_RANGE.match(part)
                if match is not None and match.group(1).lower() == match.group(2).lower():
                    parts[j] = match.group(1)
            fields[i] = ",".join(parts)
    return " ".join(fields)


def check_cron_spec(spec: Any) -> str:
    """Raise unless `spec` is a valid five-field cron string that matches some time."""
    from croniter import CroniterBadDateError, croniter

    if not isinstance(spec, str) or len(spec.split()) != 5 or not croniter.is_valid(croniter_spec(spec)):
        raise CronDefinitionError(
            f"Invalid cron spec {spec!r}: expected five fields \"minute hour day-of-month month day-of-week\" "
            "(e.g. \"15 7 * * *\"), Sunday = 0."
        )
    try:
        croniter(croniter_spec(spec), 0.0).get_next(float)
    except CroniterBadDateError:
        raise CronDefinitionError(f'The cron spec "{spec}" will never match any time') from None
    return " ".join(spec.split())


class CronJobs:
    """The cron jobs of an app: `crons = cron_jobs()` in `crons.py`."""

    def __init__(self) -> None:
        self.jobs: dict[str, CronJob] = {}

    def _add(self, name: Any, schedule: dict[str, Any], ref: Any, args: Any) -> None:
        if not isinstance(name, str) or not _IDENTIFIER.match(name):
            raise CronDefinitionError(
                f"Invalid cron identifier {name}: use ASCII letters that are not control characters"
            )
        if name in self.jobs:
            raise CronDefinitionError(f"Cron identifier registered twice: {name}")
        if args is None:
            args = {}
        if not isinstance(args, dict):
            raise CronDefinitionError(f"Cron {name}: the arguments must be a dict (an object), got {args!r}")
        if isinstance(ref, (FunctionReference, str)):
            get_function_name(ref)  # a module reference or a malformed path fails here
        self.jobs[name] = CronJob(name, schedule, ref, dict(args))

    def interval(self, name: str, schedule: dict[str, Any], ref: Any, args: dict[str, Any] | None = None) -> None:
        """Run every `{"seconds"|"minutes"|"hours": n}`, first at deploy."""
        schedule = _schedule_dict(schedule, "interval")
        given = [unit for unit in _UNIT_MS if schedule.get(unit) is not None]
        if len(given) != 1:
            raise CronDefinitionError("Must specify one of seconds, minutes, or hours")
        n = schedule[given[0]]
        if not _is_int(n) or n <= 0:
            raise CronDefinitionError("Interval must be an integer greater than 0")
        self._add(name, {"type": "interval", given[0]: int(n)}, ref, args)

    def hourly(self, name: str, schedule: dict[str, Any], ref: Any, args: dict[str, Any] | None = None) -> None:
        """Run every hour at `minuteUTC`."""
        schedule = _schedule_dict(schedule, "hourly")
        minute = _minute(schedule.get("minuteUTC"))
        self._add(name, {"type": "hourly", "minuteUTC": minute, "cron": f"{minute} * * * *"}, ref, args)

    def daily(self, name: str, schedule: dict[str, Any], ref: Any, args: dict[str, Any] | None = None) -> None:
        """Run every day at `hourUTC`:`minuteUTC`."""
        schedule = _schedule_dict(schedule, "daily")
        hour, minute = _hour(schedule.get("hourUTC")), _minute(schedule.get("minuteUTC"))
        self._add(name, {"type": "daily", "hourUTC": hour, "minuteUTC": minute, "cron": f"{minute} {hour} * * *"},
                  ref, args)

    def weekly(self, name: str, schedule: dict[str, Any], ref: Any, args: dict[str, Any] | None = None) -> None:
        """Run every week on `dayOfWeek` ("monday", ...) at `hourUTC`:`minuteUTC`."""
        schedule = _schedule_dict(schedule, "weekly")
        day = _day_of_week(schedule.get("dayOfWeek"))
        hour, minute = _hour(schedule.get("hourUTC")), _minute(schedule.get("minuteUTC"))
        self._add(name, {"type": "weekly", "dayOfWeek": schedule["dayOfWeek"], "hourUTC": hour, "minuteUTC": minute,
                         "cron": f"{minute} {hour} * * {day}"}, ref, args)

    def monthly(self, name: str, schedule: dict[str, Any], ref: Any, args: dict[str, Any] | None = None) -> None:
        """Run every month on `day` at `hourUTC`:`minuteUTC` (skipping months without that day)."""
        schedule = _schedule_dict(schedule, "monthly")
        day = _day_of_month(schedule.get("day"))
        hour, minute = _hour(schedule.get("hourUTC")), _minute(schedule.get("minuteUTC"))
        self._add(name, {"type": "monthly", "day": day, "hourUTC": hour, "minuteUTC": minute,
                         "cron": f"{minute} {hour} {day} * *"}, ref, args)

    def cron(self, name: str, spec: str, ref: Any, args: dict[str, Any] | None = None) -> None:
        """Run on a five-field Unix cron string (UTC, Sunday = 0)."""
        self._add(name, {"type": "cron", "cron": check_cron_spec(spec)}, ref, args)

    def __len__(self) -> int:
        return len(self.jobs)

    def __repr__(self) -> str:
        return f"cron_jobs({list(self.jobs)})"


def _tag_errors_with_name(method: Any) -> Any:
    """Keep Convex's message as the error text, and record which cron it was about."""

    def wrapper(self: CronJobs, name: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, name, *args, **kwargs)
        except CronDefinitionError as exc:
            exc.cron_name = name
            raise

    wrapper.__name__ = method.__name__
    wrapper.__qualname__ = method.__qualname__
    wrapper.__doc__ = method.__doc__
    return wrapper


for _method in ("interval", "hourly", "daily", "weekly", "monthly", "cron"):
    setattr(CronJobs, _method, _tag_errors_with_name(getattr(CronJobs, _method)))


def cron_jobs() -> CronJobs:
    """A new, empty set of cron jobs for `crons.py`."""
    return CronJobs()
