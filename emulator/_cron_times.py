"""The match times of a five-field UTC cron spec, found fast.

croniter parses and checks a spec (behind `croniter_spec`, which corrects it where
it reads a spec otherwise than Convex); this walks the fields croniter expanded,
in whole minutes of the epoch, so a minutely job costs a step of arithmetic a
run rather than a croniter iteration. Days follow Convex's parser (saffron), as
croniter does: with both day-of-month and day-of-week restricted (not `*`), a day
matches either. Specs with croniter's extras (`L`, `#`) stay with croniter.
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date, timedelta
from typing import Any

from convex_py._crons import croniter_spec

_EPOCH = date(1970, 1, 1)
_MINUTE_MS = 60_000
_DAY_MINUTES = 1440


_FIELDS = ("_spec", "_fallback", "_minutes", "_minute_set", "_hours", "_hour_set", "_months", "_doms", "_dows",
           "_dom_star", "_dow_star")
_parsed: dict[str, tuple[Any, ...]] = {}  # a spec as written -> its _FIELDS: parsed once per process
_firsts: dict[tuple[str, Any], float] = {}  # (spec, deploy minute) -> first match (see first_after)


def _parse(written: str) -> tuple[Any, ...]:
    """The values of `_FIELDS` for a spec: the fields croniter expands, or croniter itself (`_fallback`)."""
    from croniter import croniter

    spec = croniter_spec(written)
    parsed = croniter(spec, 0.0)
    expanded = parsed.expanded
    if getattr(parsed, "nth_weekday_of_month", None) or any(
        value != "*" and not isinstance(value, int) for field in expanded for value in field
    ):
        found: tuple[Any, ...] = (spec, spec, None, None, None, None, None, None, None, None, None)
    else:
        minutes, hours, doms, months, dows = (None if field == ["*"] else sorted(set(field)) for field in expanded)
        minutes = minutes if minutes is not None else list(range(60))
        hours = hours if hours is not None else list(range(24))
        found = (
            spec, None, minutes, frozenset(minutes), hours, frozenset(hours),
            frozenset(months) if months is not None else None,
            frozenset(doms) if doms is not None else frozenset(),
            frozenset(d % 7 for d in dows) if dows is not None else frozenset(),
            doms is None, dows is None,
        )
    if len(_parsed) < 4096:
        _parsed[written] = found
    return found


class CronTimes:
    """`next_after(ms)`: the first match strictly after `ms` (ms since the epoch, UTC)."""

    __slots__ = _FIELDS + ("_day", "_day_ok")

    def __init__(self, spec: str) -> None:
        parsed = _parsed.get(spec)
        if parsed is None:
            parsed = _parse(spec)
        (self._spec, self._fallback, self._minutes, self._minute_set, self._hours, self._hour_set, self._months,
         self._doms, self._dows, self._dom_star, self._dow_star) = parsed
        self._day = -1
        self._day_ok = False

    def first_after(self, ms: float) -> float:
        """`next_after(ms)` for a deploy time, remembered per spec and minute: a suite deploys its
        crons in every test, mostly at one start time, and a monthly job's first match is a walk."""
        key = (self._spec, ms if self._fallback is not None else int(ms // _MINUTE_MS))
        found = _firsts.get(key)
        if found is None:
            found = self.next_after(ms)
            if len(_firsts) >= 4096:
                _firsts.clear()
            _firsts[key] = found
        return found

    def _matches_day(self, day: int) -> bool:
        if day == self._day:
            return self._day_ok
        d = _EPOCH + timedelta(days=day)
        ok = self._months is None or d.month in self._months
        if ok and not (self._dom_star and self._dow_star):
            on_dom = d.day in self._doms
            on_dow = (day + 4) % 7 in self._dows  # 1970-01-01 was a Thursday (4); Sunday = 0
            ok = on_dow if self._dom_star else on_dom if self._dow_star else on_dom or on_dow
        self._day, self._day_ok = day, ok
        return ok

    def next_after(self, ms: float) -> float:
        if self._fallback is not None:
            from croniter import croniter

            return croniter(self._fallback, ms / 1000).get_next(float) * 1000
        minute = int(ms // _MINUTE_MS) + 1
        for _ in range(1_000_000):  # a spec that matches at all does within 28 years (~10k days)
            day, in_day = divmod(minute, _DAY_MINUTES)
            if not self._matches_day(day):
                minute = (day + 1) * _DAY_MINUTES
                continue
            hour, m = divmod(in_day, 60)
            if hour not in self._hour_set:
                at = bisect_left(self._hours, hour)
                if at == len(self._hours):
                    minute = (day + 1) * _DAY_MINUTES
                else:
                    minute = day * _DAY_MINUTES + self._hours[at] * 60
                continue
            if m in self._minute_set:
                return float(minute * _MINUTE_MS)
            at = bisect_left(self._minutes, m)
            if at == len(self._minutes):
                minute = day * _DAY_MINUTES + (hour + 1) * 60
            else:
                return float((day * _DAY_MINUTES + hour * 60 + self._minutes[at]) * _MINUTE_MS)
        raise ValueError(f"The cron spec {self._spec!r} matches no time")  # pragma: no cover


__all__ = ["CronTimes"]
