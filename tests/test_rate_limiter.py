"""The shipped rate limiter component: token bucket and fixed window, as `@convex-dev/rate-limiter`
documents them, on the virtual clock (exact values and retryAfter times)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from convex_py import ConvexError, components, internal, internal_mutation, internal_query
from convex_py.components.rate_limiter import HOUR, MINUTE, SECOND, RateLimiter, calculate_rate_limit, rate_limiter
from emulator import ConvexEmulator
from emulator.wall_clock import wall_clock_follows

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z

limiter = RateLimiter(components.rate_limiter, {
    "sendMessage": {"kind": "token bucket", "rate": 10, "period": MINUTE, "capacity": 3},
    "signUp": {"kind": "fixed window", "rate": 2, "period": HOUR},
})


@internal_mutation
def send(ctx, args):
    return limiter.limit(ctx, "sendMessage", key=args.get("user"), count=args.get("count"))


@internal_mutation
def send_or_throw(ctx, args):
    return limiter.limit(ctx, "sendMessage", key="ada", throws=True)


@internal_mutation
def send_then_fail(ctx, args):
    limiter.limit(ctx, "sendMessage", key="ada")
    raise ValueError("the message could not be stored")


@internal_mutation
def sign_up(ctx, args):
    return limiter.limit(ctx, "signUp")


@internal_query
def can_send(ctx, args):
    return limiter.check(ctx, "sendMessage", key="ada")


@internal_mutation
def reset(ctx, args):
    limiter.reset(ctx, "sendMessage", key="ada")


@internal_mutation
def reserve(ctx, args):
    return limiter.limit(ctx, "sendMessage", key="ada", count=2, reserve=True)


@internal_mutation
async def send_async(ctx, args):
    return await limiter.limit(ctx, "sendMessage", {"key": "async"})


@pytest.fixture
def t() -> Iterator[ConvexEmulator]:
    names = ("send", "send_or_throw", "send_then_fail", "sign_up", "can_send", "reset", "reserve", "send_async")
    emulator = ConvexEmulator(modules={"m": {name: globals()[name] for name in names}}, start_time=T0)
    emulator.register_component("rate_limiter", rate_limiter)
    with wall_clock_follows(emulator):
        yield emulator


def test_token_bucket_capacity_then_one_token_every_six_seconds(t: ConvexEmulator) -> None:
    assert [t.mutation(internal.m.send, {"user": "ada"}) for _ in range(3)] == [{"ok": True}] * 3
    assert t.mutation(internal.m.send, {"user": "ada"}) == {"ok": False, "retryAfter": 6000.0}
    assert t.mutation(internal.m.send, {"user": "bob"}) == {"ok": True}  # per key
    t.advance(5999)
    assert t.mutation(internal.m.send, {"user": "ada"}) == {"ok": False, "retryAfter": pytest.approx(1.0)}
    t.advance(1)
    assert t.mutation(internal.m.send, {"user": "ada"}) == {"ok": True}
    t.advance(MINUTE)  # refills to capacity 3, not 10
    assert [t.mutation(internal.m.send, {"user": "ada"})["ok"] for _ in range(4)] == [True, True, True, False]


def test_fixed_window_grants_rate_at_each_window_start(t: ConvexEmulator) -> None:
    assert [t.mutation(internal.m.sign_up)["ok"] for _ in range(2)] == [True, True]
    t.advance(20 * MINUTE)
    assert t.mutation(internal.m.sign_up) == {"ok": False, "retryAfter": 40.0 * MINUTE}
    t.advance(40 * MINUTE)
    assert [t.mutation(internal.m.sign_up)["ok"] for _ in range(3)] == [True, True, False]


def test_check_takes_nothing_and_reset_starts_over(t: ConvexEmulator) -> None:
    assert t.query(internal.m.can_send) == {"ok": True}
    for _ in range(3):
        t.mutation(internal.m.send, {"user": "ada"})
    assert t.query(internal.m.can_send) == {"ok": False, "retryAfter": 6000.0}
    assert t.query(internal.m.can_send) == {"ok": False, "retryAfter": 6000.0}
    t.mutation(internal.m.reset)
    assert t.query(internal.m.can_send) == {"ok": True}


def test_throws_a_rate_limited_convex_error(t: ConvexEmulator) -> None:
    for _ in range(3):
        t.mutation(internal.m.send_or_throw)
    with pytest.raises(ConvexError) as caught:
        t.mutation(internal.m.send_or_throw)
    assert caught.value.data == {"kind": "RateLimited", "name": "sendMessage", "retryAfter": 6000.0}


def test_a_limit_taken_by_a_failed_mutation_is_given_back(t: ConvexEmulator) -> None:
    for _ in range(3):
        with pytest.raises(ValueError):
            t.mutation(internal.m.send_then_fail)
    assert t.query(internal.m.can_send) == {"ok": True}
    rows = t.query(components.rate_limiter.lib.get_value, {
        "name": "sendMessage", "key": "ada", "config": limiter.limits["sendMessage"],
    })
    assert (rows["value"], rows["ts"], rows["config"]["capacity"]) == (3, 0, 3)


def test_reserve_takes_capacity_ahead_and_says_when(t: ConvexEmulator) -> None:
    for _ in range(3):
        t.mutation(internal.m.send, {"user": "ada"})
    assert t.mutation(internal.m.reserve) == {"ok": True, "retryAfter": 12000.0}
    assert t.mutation(internal.m.send, {"user": "ada"}) == {"ok": False, "retryAfter": 18000.0}


def test_async_handlers_await_the_client(t: ConvexEmulator) -> None:
    assert t.mutation(internal.m.send_async) == {"ok": True}


def test_a_count_over_capacity_is_an_error(t: ConvexEmulator) -> None:
    with pytest.raises(ValueError, match="Rate limit sendMessage count 4 exceeds 3."):
        t.mutation(internal.m.send, {"user": "ada", "count": 4})


def test_unknown_names_and_options_say_so() -> None:
    with pytest.raises(ValueError, match="no rate limit named 'nope'"):
        limiter.check(None, "nope")
    with pytest.raises(TypeError, match="unknown options"):
        limiter.limit(None, "sendMessage", {"keys": "x"})


def test_calculate_rate_limit_as_convex() -> None:
    bucket = {"kind": "token bucket", "rate": 10, "period": SECOND}
    assert calculate_rate_limit({"value": 0, "ts": 0}, bucket, 250, 1) == {
        "value": 1.5, "ts": 250, "retryAfter": None, "windowStart": None,
    }
    window = {"kind": "fixed window", "rate": 5, "period": 1000, "start": 0}
    assert calculate_rate_limit(None, window, 2500, 7) == {
        "value": -2, "ts": 2000, "retryAfter": 500, "windowStart": 0,
    }


camel_limiter = RateLimiter(components.rateLimiter, {
    "sendMessage": {"kind": "token bucket", "rate": 10, "period": MINUTE, "capacity": 3},
})


@internal_mutation
def send_camel(ctx, args):
    return camel_limiter.limit(ctx, "sendMessage", key="ada")


def test_components_rate_limiter_in_camel_case_reaches_the_same_component() -> None:
    # TS: app.use(rateLimiter); new RateLimiter(components.rateLimiter, {...})
    from convex_py.components.rate_limiter import rateLimiter

    emulator = ConvexEmulator(modules={"m": {"send": send, "send_camel": send_camel}}, start_time=T0)
    emulator.register_component("rate_limiter", rateLimiter)
    with wall_clock_follows(emulator):
        assert [emulator.mutation(internal.m.send_camel) for _ in range(2)] == [{"ok": True}] * 2
        assert emulator.mutation(internal.m.send, {"user": "ada"}) == {"ok": True}  # the same bucket: 3 taken
        assert emulator.mutation(internal.m.send_camel) == {"ok": False, "retryAfter": 6000.0}
        row = emulator.query(components.rateLimiter.lib.get_value, {
            "name": "sendMessage", "key": "ada", "config": camel_limiter.limits["sendMessage"],
        })
    assert row["value"] == 0


def test_a_component_installed_under_another_name_has_no_camel_case_alias() -> None:
    emulator = ConvexEmulator(modules={"m": {"send_camel": send_camel}}, start_time=T0)
    emulator.register_component("limits", rate_limiter)
    with pytest.raises(Exception, match='Component "rateLimiter" is not installed in this app'):
        emulator.mutation(internal.m.send_camel)
