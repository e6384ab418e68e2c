"""Conformance probes: each promise of DESIGN.md and SEMANTICS.md, exercised as a user writes it.

One test per promise; the comment above each quotes the sentence it checks.
"""

from __future__ import annotations

import asyncio
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from convex_py import (
    ConvexError,
    Response,
    http_action,
    http_router,
    Id,
    action,
    api,
    internal,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
    v,
)
from convex_py.errors import ConvexPyError
from emulator import ConvexEmulator

pytest_plugins = ["pytester"]  # the plugin probes run an inner pytest

START = "2030-01-01T00:00:00Z"
T0 = 1893456000000.0  # START in ms
SECOND = 1000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR


def write_app(root: Path, files: dict[str, str]) -> Path:
    """An app folder `root` with `convex/<file>` for each entry (dedented)."""
    for name, source in files.items():
        path = root / "convex" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    return root


def emu(*, start_time=START, **modules):
    return ConvexEmulator(modules=modules, start_time=start_time)


# =====================================================================================
# DESIGN.md: Application code
# =====================================================================================

# "A function's path is "<module path>:<name>": convex/orders.py's create_order is
# "orders:create_order", convex/admin/users.py's remove is "admin/users:remove"."
def test_function_paths_follow_module_paths(tmp_path):
    app = write_app(tmp_path / "app", {
        "orders.py": """
            from convex_py import mutation
            @mutation
            def create_order(ctx, args):
                return "created"
        """,
        "admin/users.py": """
            from convex_py import mutation
            @mutation
            def remove(ctx, args):
                return "removed"
        """,
    })
    t = ConvexEmulator(str(app), start_time=START)
    assert t.mutation("orders:create_order", {}) == "created"
    assert t.mutation("admin/users:remove", {}) == "removed"
    assert t.mutation(api.admin.users.remove, {}) == "removed"


# "`app` is the app folder or its `convex/` folder"
def test_app_is_the_folder_or_its_convex_folder(tmp_path):
    app = write_app(tmp_path / "app", {"m.py": """
        from convex_py import query
        @query
        def one(ctx, args):
            return 1
    """})
    assert ConvexEmulator(app).query("m:one") == 1
    assert ConvexEmulator(app / "convex").query("m:one") == 1


# "Optional special modules: schema.py (exports `schema` or a default), crons.py (exports `crons`)."
def test_schema_module_exports_schema_or_default_and_crons_module_exports_crons(tmp_path):
    for export in ("schema", "default"):
        app = write_app(tmp_path / export, {
            "schema.py": f"""
                from convex_py import define_schema, define_table, v
                {export} = define_schema({{"notes": define_table({{"body": v.string()}})}})
            """,
            "notes.py": """
                from convex_py import mutation
                @mutation
                def add(ctx, args):
                    return ctx.db.insert("notes", args)
            """,
        })
        t = ConvexEmulator(app, start_time=START)
        with pytest.raises(ConvexPyError):
            t.mutation("notes:add", {"body": 1})
        assert t.mutation("notes:add", {"body": "x"}).table == "notes"
    app = write_app(tmp_path / "withcrons", {
        "crons.py": """
            from convex_py import cron_jobs, internal
            crons = cron_jobs()
            crons.interval("tick", {"minutes": 5}, internal.jobs.tick)
        """,
        "jobs.py": """
            from convex_py import internal_mutation
            @internal_mutation
            def tick(ctx, args):
                ctx.db.insert("ticks", {})
        """,
    })
    t = ConvexEmulator(app, start_time=START)
    t.advance(minutes=10)
    assert [run["time"] for run in t.cron_runs("tick")] == [T0, T0 + 5 * MINUTE, T0 + 10 * MINUTE]


# The DESIGN.md example app, verbatim: run_after(0, ...), run_after(7 days, ...), an async handler
# awaiting ctx.db.patch.
@mutation(args={"items": v.array(v.string())}, returns=v.id("orders"))
def create_order(ctx, args):
    order_id = ctx.db.insert("orders", {"items": args["items"]})
    ctx.scheduler.run_after(0, internal.emails.send_confirmation, {"orderId": order_id})
    ctx.scheduler.run_after(7 * 24 * 3600 * 1000, internal.orders.archive_order, {"orderId": order_id})
    return order_id


@internal_mutation(args={"orderId": v.id("orders")})
async def archive_order(ctx, args):          # async handlers are fine too
    await ctx.db.patch(args["orderId"], {"archived": True})


@internal_mutation(args={"orderId": v.id("orders")})
def send_confirmation(ctx, args):
    ctx.db.insert("emails", {"orderId": args["orderId"]})


def test_the_design_example_app_runs_as_written():
    t = ConvexEmulator(
        modules={
            "orders": {"create_order": create_order, "archive_order": archive_order},
            "emails": {"send_confirmation": send_confirmation},
        },
        start_time="2030-01-01T00:00:00Z",
    )
    order_id = t.mutation(api.orders.create_order, {"items": ["book"]})
    assert isinstance(order_id, Id) and order_id.table == "orders"
    assert [j["state"]["kind"] for j in t.scheduled_functions()] == ["pending", "pending"]
    t.advance(days=7)
    doc = t.run(lambda ctx: ctx.db.get(order_id))
    assert doc["archived"] is True and doc["items"] == ["book"]
    jobs = t.scheduled_functions()
    # the confirmation completed at T0, so its row is removed at T0 + 7 days (retention)
    assert [(j["name"], j["state"], j["scheduledTime"]) for j in jobs] == [
        ("orders:archive_order", {"kind": "success"}, T0 + 7 * DAY),
    ]
    assert t.run(lambda ctx: len(ctx.db.query("emails").collect())) == 1


# "Decorators: query, mutation, action, internal_query, internal_mutation, internal_action;
# each usable bare (@mutation) or with args=, returns=."
def test_every_decorator_bare_and_with_args_and_returns():
    decorators = {"query": query, "mutation": mutation, "action": action, "internal_query": internal_query,
                  "internal_mutation": internal_mutation, "internal_action": internal_action}
    module = {}
    for name, decorator in decorators.items():
        module[f"{name}_bare"] = decorator(lambda ctx, args: args.get("x", 0) + 1)
        module[f"{name}_typed"] = decorator(args={"x": v.int64()}, returns=v.int64())(lambda ctx, args: args["x"] + 1)
    t = emu(m=module)
    for name in decorators:
        kind = name.removeprefix("internal_")
        call = getattr(t, kind)
        assert call(f"m:{name}_bare", {"x": 1}) == 2
        assert call(f"m:{name}_typed", {"x": 41}) == 42
        with pytest.raises(ConvexPyError):
            call(f"m:{name}_typed", {"x": "41"})


# "A handler may be def (its ctx methods return values) or async def (its ctx methods are
# awaited, exactly like Convex's JavaScript)."
@mutation
def sync_insert(ctx, args):
    doc_id = ctx.db.insert("t", {"n": 1})
    return ctx.db.get(doc_id)["n"]


@mutation
async def async_insert(ctx, args):
    doc_id = await ctx.db.insert("t", {"n": 2})
    return (await ctx.db.get(doc_id))["n"]


def test_sync_and_async_handlers():
    t = emu(m={"sync_insert": sync_insert, "async_insert": async_insert})
    assert t.mutation("m:sync_insert") == 1
    assert t.mutation("m:async_insert") == 2


# "Function references: api.orders.create_order (public), internal.orders.archive_order
# (internal), the decorated function object itself, or the string "orders:create_order".
# All are accepted wherever a reference is."
@internal_mutation
def ref_target(ctx, args):
    ctx.db.insert("hits", {"via": args["via"]})
    return args["via"]


@internal_query
def ref_query(ctx, args):
    return args["via"]


@internal_action
def ref_action(ctx, args):
    return args["via"]


@mutation
def ref_from_mutation(ctx, args):
    out = [ctx.run_mutation(r, {"via": f"run_mutation {i}"}) for i, r in
           enumerate([internal.refs.ref_target, ref_target, "refs:ref_target"])]
    out += [ctx.run_query(r, {"via": f"run_query {i}"}) for i, r in
            enumerate([internal.refs.ref_query, ref_query, "refs:ref_query"])]
    for i, r in enumerate([internal.refs.ref_target, ref_target, "refs:ref_target"]):
        ctx.scheduler.run_after(0, r, {"via": f"run_after {i}"})
        ctx.scheduler.run_at(T0 + 1, r, {"via": f"run_at {i}"})
    return out


@action
def ref_from_action(ctx, args):
    return [ctx.run_action(r, {"via": str(i)}) for i, r in enumerate([internal.refs.ref_action, ref_action,
                                                                       "refs:ref_action"])]


def test_every_reference_form_is_accepted_wherever_a_reference_is():
    module = {"ref_target": ref_target, "ref_query": ref_query, "ref_action": ref_action,
              "ref_from_mutation": ref_from_mutation, "ref_from_action": ref_from_action}
    t = emu(refs=module)
    for ref in (internal.refs.ref_target, ref_target, "refs:ref_target"):
        assert t.mutation(ref, {"via": "t"}) == "t"
    for ref in (internal.refs.ref_query, ref_query, "refs:ref_query"):
        assert t.query(ref, {"via": "q"}) == "q"
    assert t.mutation(api.refs.ref_from_mutation, {}) == [
        "run_mutation 0", "run_mutation 1", "run_mutation 2", "run_query 0", "run_query 1", "run_query 2"]
    assert t.action(api.refs.ref_from_action, {}) == ["0", "1", "2"]
    t.advance(ms=1)
    assert [j["state"]["kind"] for j in t.scheduled_functions()] == ["success"] * 6


# "Validators v: id(table), null(), number()/float64(), int64(), boolean(), string(), bytes(),
# literal(x), array(v), object({...}), record(k, v), union(...), optional(v), nullable(v), any().
# ... Every validator exports JSON Schema."
def test_every_validator_exists_validates_and_exports_json_schema():
    import jsonschema

    cases = [
        (v.null(), None, 1),
        (v.number(), 1.5, "x"),
        (v.float64(), 2.0, "x"),
        (v.int64(), 3, 3.5),
        (v.boolean(), True, 1),
        (v.string(), "s", 1),
        (v.bytes(), b"x", "x"),
        (v.literal("a"), "a", "b"),
        (v.array(v.int64()), [1, 2], [1, "2"]),
        (v.object({"a": v.int64(), "b": v.optional(v.string())}), {"a": 1}, {"a": 1, "c": 2}),
        (v.record(v.string(), v.int64()), {"k": 1}, {"k": "1"}),
        (v.union(v.int64(), v.string()), "x", 1.5),
        (v.nullable(v.string()), None, 1),
        (v.any(), {"anything": [1]}, None),
    ]
    for validator, good, bad in cases:
        validator.validate(good)
        if bad is not None:
            with pytest.raises(ConvexPyError):
                validator.validate(bad)
        schema = validator.json_schema()
        assert isinstance(schema, dict)
        if not isinstance(good, bytes):
            jsonschema.validate(good, schema)
    doc_id = v.id("orders")
    assert doc_id.json_schema()["type"] == "string"
    assert v.optional(v.string()).is_optional


# "A pydantic model class is also accepted as an args/returns validator."
def test_a_pydantic_model_is_an_args_and_returns_validator():
    from pydantic import BaseModel

    class Point(BaseModel):
        x: int
        y: int

    @query(args=Point, returns=Point)
    def mirror(ctx, args):
        return {"x": args["y"], "y": args["x"]}

    t = emu(m={"mirror": mirror})
    assert t.query("m:mirror", {"x": 1, "y": 2}) == {"x": 2, "y": 1}
    with pytest.raises(ConvexPyError):
        t.query("m:mirror", {"x": 1})


# "v.number() accepts an int and stores a float. Documents are dicts with _id (an Id, a str
# subclass that knows its table) and _creationTime (float milliseconds)."
def test_number_stores_a_float_and_documents_carry_id_and_creation_time():
    from convex_py import define_schema, define_table

    @mutation
    def add(ctx, args):
        return ctx.db.get(ctx.db.insert("scores", {"score": 14}))

    schema = define_schema({"scores": define_table({"score": v.number()})})
    t = ConvexEmulator(modules={"m": {"add": add}}, schema=schema, start_time=START)
    doc = t.mutation("m:add")
    assert doc["score"] == 14.0 and type(doc["score"]) is float
    assert isinstance(doc["_id"], Id) and isinstance(doc["_id"], str) and doc["_id"].table == "scores"
    assert type(doc["_creationTime"]) is float and doc["_creationTime"] >= T0


# "Schema: define_schema({"orders": define_table({...}).index("by_user", ["userId"])})."
def test_schema_with_an_index():
    from convex_py import define_schema, define_table

    schema = define_schema({"orders": define_table({"userId": v.string(), "n": v.int64()})
                            .index("by_user", ["userId"])})

    @mutation
    def seed(ctx, args):
        for user, n in [("b", 1), ("a", 2), ("b", 3)]:
            ctx.db.insert("orders", {"userId": user, "n": n})

    @query
    def of(ctx, args):
        rows = ctx.db.query("orders").with_index("by_user", lambda q: q.eq("userId", args["u"])).collect()
        return [d["n"] for d in rows]

    t = ConvexEmulator(modules={"m": {"seed": seed, "of": of}}, schema=schema, start_time=START)
    t.mutation("m:seed")
    assert t.query("m:of", {"u": "b"}) == [1, 3]


# "ConvexError(data): an application error whose data reaches the caller." / SEMANTICS: "its
# data reaches the caller unchanged. Any other exception is a server error."
def test_convex_error_data_reaches_the_caller_unchanged():
    @mutation
    def refuse(ctx, args):
        ctx.db.insert("t", {})
        raise ConvexError({"code": 42, "why": ["no"]})

    @query
    def count(ctx, args):
        return len(ctx.db.query("t").collect())

    t = emu(m={"refuse": refuse, "count": count})
    with pytest.raises(ConvexError) as caught:
        t.mutation("m:refuse")
    assert caught.value.data == {"code": 42, "why": ["no"]}
    assert t.query("m:count") == 0


# "Cron jobs, in crons.py: crons = cron_jobs(); crons.interval("sync", {"minutes": 5},
# internal.sync.run), and hourly, daily, weekly, monthly, cron("name", "15 7 * * *", ref, args)."
# SEMANTICS: "Clock schedules run at the first matching time strictly after registration."
def test_every_cron_schedule_kind_runs_at_its_times():
    from convex_py import cron_jobs

    @internal_mutation
    def run(ctx, args):
        ctx.db.insert("runs", args)

    crons = cron_jobs()
    crons.interval("sync", {"minutes": 5}, internal.sync.run)
    crons.hourly("hourly", {"minuteUTC": 30}, internal.sync.run, {"k": "h"})
    crons.daily("daily", {"hourUTC": 7, "minuteUTC": 15}, internal.sync.run, {"k": "d"})
    crons.weekly("weekly", {"dayOfWeek": "tuesday", "hourUTC": 9}, internal.sync.run, {"k": "w"})
    crons.monthly("monthly", {"day": 2, "hourUTC": 0, "minuteUTC": 0}, internal.sync.run, {"k": "m"})
    crons.cron("name", "15 7 * * *", internal.sync.run, {"k": "c"})
    # 2030-01-01 is a Tuesday, at 00:00 UTC.
    t = ConvexEmulator(modules={"sync": {"run": run}, "crons": {"crons": crons}}, start_time=START)
    t.advance(days=2)
    times = {name: [r["time"] for r in t.cron_runs(name)] for name in
             ("sync", "hourly", "daily", "weekly", "monthly", "name")}
    assert times["sync"][:3] == [T0, T0 + 5 * MINUTE, T0 + 10 * MINUTE] and len(times["sync"]) == 577
    assert times["hourly"][:2] == [T0 + 30 * MINUTE, T0 + 90 * MINUTE] and len(times["hourly"]) == 48
    assert times["daily"] == [T0 + 7 * HOUR + 15 * MINUTE, T0 + DAY + 7 * HOUR + 15 * MINUTE]
    assert times["weekly"] == [T0 + 9 * HOUR]
    assert times["monthly"] == [T0 + DAY]
    assert times["name"] == times["daily"]
    assert all(r["outcome"] == "success" for r in t.cron_runs())


# SEMANTICS "Cron jobs": every validation error, in Convex's words.
def test_cron_validation_errors_in_convexs_words():
    from convex_py import cron_jobs

    ref = "m:f"
    crons = cron_jobs()
    cases = [
        (lambda: crons.interval("a", {}, ref), "Must specify one of seconds, minutes, or hours"),
        (lambda: crons.interval("a", {"seconds": 1, "minutes": 1}, ref),
         "Must specify one of seconds, minutes, or hours"),
        (lambda: crons.interval("a", {"minutes": 0}, ref), "Interval must be an integer greater than 0"),
        (lambda: crons.interval("a", {"hours": 1.5}, ref), "Interval must be an integer greater than 0"),
        (lambda: crons.daily("a", {"hourUTC": 24}, ref), "Hour of day must be an integer from 0 to 23"),
        (lambda: crons.hourly("a", {"minuteUTC": 60}, ref), "Minute of hour must be an integer from 0 to 59"),
        (lambda: crons.monthly("a", {"day": 32, "hourUTC": 0}, ref), "Day of month must be an integer from 1 to 31"),
        (lambda: crons.weekly("a", {"dayOfWeek": "Monday", "hourUTC": 0}, ref),
         'Day of week must be a string like "monday".'),
        (lambda: crons.cron("a", "0 0 30 2 *", ref), 'The cron spec "0 0 30 2 *" will never match any time'),
    ]
    for call, text in cases:
        with pytest.raises(ConvexPyError) as caught:
            call()
        assert str(caught.value) == text
    with pytest.raises(ConvexPyError):
        crons.cron("a", "not a cron", ref)
    crons.daily("twice", {"hourUTC": 1}, ref)  # minuteUTC may be left out
    with pytest.raises(ConvexPyError) as caught:
        crons.hourly("twice", {"minuteUTC": 1}, ref)
    assert str(caught.value) == "Cron identifier registered twice: twice"


# "cron(name, "m h dom mon dow", fn, args): the five-field Unix syntax, Sunday = 0 (a range of one
# value, 5-5, is that value only)"; "A monthly job on day 29-31 does not run in months without that day."
def test_cron_strings_sunday_zero_single_ranges_and_short_months():
    from convex_py import cron_jobs

    @internal_mutation
    def f(ctx, args):
        pass

    crons = cron_jobs()
    crons.cron("sundays", "0 12 * * 0", internal.m.f)
    crons.cron("fridays", "0 12 * * 5-5", internal.m.f)
    crons.monthly("day31", {"day": 31, "hourUTC": 0}, internal.m.f)
    t = ConvexEmulator(modules={"m": {"f": f}, "crons": {"crons": crons}}, start_time=START)
    t.advance(days=100)  # to 2030-04-11
    iso = lambda ms: datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y-%m-%d %a %H:%M")  # noqa: E731
    assert iso(t.cron_runs("sundays")[0]["time"]) == "2030-01-06 Sun 12:00"
    assert {iso(r["time"])[11:14] for r in t.cron_runs("sundays")} == {"Sun"}
    assert iso(t.cron_runs("fridays")[0]["time"]) == "2030-01-04 Fri 12:00"
    assert {iso(r["time"])[11:14] for r in t.cron_runs("fridays")} == {"Fri"}
    assert [iso(r["time"])[:10] for r in t.cron_runs("day31")] == ["2030-01-31", "2030-03-31"]


# "A cron run that throws is recorded as failed and the schedule goes on."
# "Runs of cron jobs are not rows of _scheduled_functions."
def test_a_failing_cron_is_recorded_and_goes_on_and_is_no_scheduled_function():
    from convex_py import cron_jobs

    @internal_mutation
    def bad(ctx, args):
        raise RuntimeError("nope")

    crons = cron_jobs()
    crons.interval("bad", {"seconds": 10}, internal.m.bad)
    t = ConvexEmulator(modules={"m": {"bad": bad}, "crons": {"crons": crons}}, start_time=START)
    t.advance(seconds=20)
    runs = t.cron_runs("bad")
    assert [(r["time"], r["outcome"]) for r in runs] == [(T0, "failed"), (T0 + 10_000, "failed"),
                                                         (T0 + 20_000, "failed")]
    assert "nope" in runs[0]["error"]
    assert t.scheduled_functions() == []


# DESIGN "Runtime crons": from convex_py.crons import Crons; crons = Crons(), then
# crons.register(ctx, {"kind": "interval", "ms": 60000}, ref, args, name="sync") or
# {"kind": "cron", "cronspec": "0 9 * * 1-5", "tz": "Europe/Paris"} -> an id; crons.get(ctx, id=...
# or name=...), crons.list(ctx), crons.pause(ctx, ...), crons.resume(ctx, ...), crons.delete(ctx, ...).
# SEMANTICS: "An interval job first runs one interval after registration."
def test_runtime_crons_api():
    from convex_py.crons import Crons

    crons = Crons()

    @internal_mutation
    def tick(ctx, args):
        ctx.db.insert("ticks", args)

    @mutation
    def start(ctx, args):
        a = crons.register(ctx, {"kind": "interval", "ms": 60000}, internal.m.tick, {"k": "i"}, name="sync")
        b = crons.register(ctx, {"kind": "cron", "cronspec": "0 9 * * 1-5", "tz": "Europe/Paris"}, internal.m.tick,
                           {"k": "c"})
        return [a, b]

    @query
    def get(ctx, args):
        return crons.get(ctx, **args)

    @query
    def listing(ctx, args):
        return crons.list(ctx)

    @mutation
    def control(ctx, args):
        return getattr(crons, args["op"])(ctx, **args["by"])

    t = emu(m={"tick": tick, "start": start, "get": get, "listing": listing, "control": control})
    a, b = t.mutation("m:start")
    assert t.query("m:get", {"name": "sync"})["id"] == a
    assert t.query("m:get", {"id": b})["schedule"] == {"kind": "cron", "cronspec": "0 9 * * 1-5", "tz": "Europe/Paris"}
    assert [c["id"] for c in t.query("m:listing")] == [a, b]
    t.advance(minutes=1)
    assert [r["time"] for r in t.cron_runs("sync")] == [T0 + MINUTE]
    t.mutation("m:control", {"op": "pause", "by": {"name": "sync"}})
    t.advance(minutes=5)
    assert len(t.cron_runs("sync")) == 1
    t.mutation("m:control", {"op": "resume", "by": {"id": a}})
    t.advance(minutes=1)
    assert len(t.cron_runs("sync")) == 2
    t.mutation("m:control", {"op": "delete", "by": {"name": "sync"}})
    assert t.query("m:get", {"name": "sync"}) is None
    # 2030-01-01 is a Tuesday; 09:00 in Paris (CET) is 08:00 UTC.
    t.advance_to(T0 + 8 * HOUR)
    cron_runs = [r for r in t.cron_runs() if r["name"] != "sync"]
    assert [r["time"] for r in cron_runs] == [T0 + 8 * HOUR]


# SEMANTICS runtime crons: "n >= 1000: "Interval must be >= 1000ms""; "Invalid cronspec: ...";
# 'Cron with name "..." already exists'; 'Cron "..." not found'; "Registered jobs live in the
# database, so they commit or roll back with the mutation that registers them".
def test_runtime_crons_errors_and_rollback():
    from convex_py.crons import Crons

    crons = Crons()

    @internal_mutation
    def tick(ctx, args):
        pass

    @mutation
    def reg(ctx, args):
        crons.register(ctx, args["schedule"], internal.m.tick, {}, name=args.get("name"))
        if args.get("fail"):
            raise ConvexError("rolled back")

    @mutation
    def delete(ctx, args):
        crons.delete(ctx, name=args["name"])

    @query
    def listing(ctx, args):
        return crons.list(ctx)

    t = emu(m={"tick": tick, "reg": reg, "delete": delete, "listing": listing})

    def error(fn, *a):
        with pytest.raises(Exception) as caught:
            fn(*a)
        return str(caught.value)

    assert error(t.mutation, "m:reg", {"schedule": {"kind": "interval", "ms": 999}}) == "Interval must be >= 1000ms"
    assert error(t.mutation, "m:reg", {"schedule": {"kind": "cron", "cronspec": "nope"}}) == "Invalid cronspec: nope"
    t.mutation("m:reg", {"schedule": {"kind": "interval", "ms": 1000}, "name": "x"})
    assert error(t.mutation, "m:reg", {"schedule": {"kind": "interval", "ms": 1000}, "name": "x"}) == \
        'Cron with name "x" already exists'
    assert error(t.mutation, "m:delete", {"name": "y"}) == 'Cron "y" not found'
    with pytest.raises(ConvexError):
        t.mutation("m:reg", {"schedule": {"kind": "interval", "ms": 1000}, "name": "z", "fail": True})
    assert [c["name"] for c in t.query("m:listing")] == ["x"]
    t.advance(seconds=10)
    assert {r["name"] for r in t.cron_runs()} == {"x"}


# =====================================================================================
# DESIGN.md: the ctx table
# =====================================================================================

def _has(obj, name):
    try:
        getattr(obj, name)
    except AttributeError:
        return False
    return True


# | db: get, query, normalize_id, system.get, system.query | yes | yes | - |
# | db: insert, patch, replace, delete | - | yes | - |
# | scheduler: run_after(delay_ms, ref, args=None), run_at(ts, ref, args=None), cancel(id) | - | yes | yes |
# | auth.get_user_identity() | yes | yes | yes |
# | run_query, run_mutation | - | yes (nested, in the same transaction) | yes (each its own transaction) |
# | run_action | - | - | yes |
@query
def members_query(ctx, args):
    out = {"db": all(_has(ctx.db, m) for m in ("get", "query", "normalize_id")),
           "system": _has(ctx.db.system, "get") and _has(ctx.db.system, "query"),
           "auth": ctx.auth.get_user_identity() is None,
           "scheduler": _has(ctx, "scheduler"), "run_mutation": _has(ctx, "run_mutation"),
           "run_action": _has(ctx, "run_action")}
    try:
        ctx.db.insert("t", {})
    except ConvexPyError:
        out["insert"] = False
    return out


@mutation
def members_mutation(ctx, args):
    doc_id = ctx.db.insert("t", {"n": 1})
    ctx.db.patch(doc_id, {"m": 2})
    ctx.db.replace(doc_id, {"n": 3})
    after_replace = ctx.db.get(doc_id)
    ctx.db.delete(doc_id)
    job = ctx.scheduler.run_after(1000, internal.ctxm.noop_mutation)
    job2 = ctx.scheduler.run_at(T0 + 5000, internal.ctxm.noop_mutation, None)
    ctx.scheduler.cancel(job2)
    nested = ctx.run_query(internal.ctxm.count_t, {})
    return {"after_replace": {k: after_replace[k] for k in after_replace if not k.startswith("_")},
            "gone": ctx.db.get(doc_id) is None, "job": ctx.db.system.get(job)["state"],
            "canceled": ctx.db.system.get(job2)["state"], "nested_sees_own_writes": nested,
            "nested_mutation": ctx.run_mutation(internal.ctxm.insert_t, {}),
            "count_after": ctx.run_query(internal.ctxm.count_t, {}),
            "auth": ctx.auth.get_user_identity(), "run_action": _has(ctx, "run_action")}


@internal_mutation
def noop_mutation(ctx, args):
    return None


@internal_query
def count_t(ctx, args):
    return len(ctx.db.query("t").collect())


@internal_mutation
def insert_t(ctx, args):
    ctx.db.insert("t", {"n": 9})
    return "inserted"


@action
def members_action(ctx, args):
    job = ctx.scheduler.run_after(0, internal.ctxm.noop_mutation, {})
    before = ctx.run_query(internal.ctxm.count_t, {})
    ctx.run_mutation(internal.ctxm.insert_t, {})
    after = ctx.run_query(internal.ctxm.count_t, {})
    return {"db": _has(ctx, "db"), "job": isinstance(job, Id) and job.table == "_scheduled_functions",
            "before": before, "after": after, "auth": ctx.auth.get_user_identity()["subject"],
            "run_action": ctx.run_action(internal.ctxm.plain_action, {})}


@internal_action
def plain_action(ctx, args):
    return "ran"


def test_the_ctx_table():
    t = emu(ctxm={"members_query": members_query, "members_mutation": members_mutation, "noop_mutation": noop_mutation,
                  "count_t": count_t, "insert_t": insert_t, "members_action": members_action,
                  "plain_action": plain_action})
    assert t.query("ctxm:members_query") == {"db": True, "system": True, "auth": True, "scheduler": False,
                                             "run_mutation": False, "run_action": False, "insert": False}
    assert t.mutation("ctxm:members_mutation") == {
        "after_replace": {"n": 3}, "gone": True, "job": {"kind": "pending"}, "canceled": {"kind": "canceled"},
        "nested_sees_own_writes": 0, "nested_mutation": "inserted", "count_after": 1, "auth": None,
        "run_action": False}
    out = t.with_identity({"subject": "u1"}).action("ctxm:members_action")
    assert out == {"db": False, "job": True, "before": 1, "after": 2, "auth": "u1", "run_action": "ran"}


# "run_at takes milliseconds since the epoch or an aware datetime."
@mutation
def schedule_at(ctx, args):
    when = datetime(2030, 1, 2, 1, 0, tzinfo=timezone(timedelta(hours=1)))  # 2030-01-02T00:00Z
    a = ctx.scheduler.run_at(when, internal.ctxm.noop_mutation, {})
    b = ctx.scheduler.run_at(T0 + 1234, internal.ctxm.noop_mutation, {})
    return [ctx.db.system.get(a)["scheduledTime"], ctx.db.system.get(b)["scheduledTime"]]


def test_run_at_takes_ms_or_an_aware_datetime():
    t = emu(ctxm={"schedule_at": schedule_at, "noop_mutation": noop_mutation})
    assert t.mutation("ctxm:schedule_at") == [T0 + DAY, T0 + 1234]


# "Query builder: ctx.db.query("t").with_index("by_x", lambda q: q.eq("x", 1).gt("y", 2))
# .order("desc").filter(lambda q: q.gt(q.field("n"), 3)) then .collect(), .take(n), .first(),
# .unique(), .paginate({"numItems": n, "cursor": c}) (-> {"page", "isDone", "continueCursor"}),
# or iterate it."
def test_the_query_builder_chain():
    from convex_py import define_schema, define_table

    schema = define_schema({"t": define_table({"x": v.int64(), "y": v.int64(), "n": v.int64()})
                            .index("by_x", ["x", "y"])})

    @mutation
    def seed(ctx, args):
        for x, y, n in [(1, 1, 9), (1, 3, 1), (1, 4, 5), (1, 5, 7), (2, 9, 9), (1, 6, 4)]:
            ctx.db.insert("t", {"x": x, "y": y, "n": n})

    def q(ctx):
        return (ctx.db.query("t").with_index("by_x", lambda q: q.eq("x", 1).gt("y", 2))
                .order("desc").filter(lambda q: q.gt(q.field("n"), 3)))

    @query
    def run(ctx, args):
        page1 = q(ctx).paginate({"numItems": 2, "cursor": None})
        return {"collect": [d["y"] for d in q(ctx).collect()], "take": [d["y"] for d in q(ctx).take(1)],
                "first": q(ctx).first()["y"], "iter": [d["y"] for d in q(ctx)],
                "unique": ctx.db.query("t").with_index("by_x", lambda r: r.eq("x", 2)).unique()["n"],
                "page1": ([d["y"] for d in page1["page"]], page1["isDone"], type(page1["continueCursor"]) is str)}

    @query
    def page2(ctx, args):
        first = ctx.run_query(internal.m.page1, {})
        page = q(ctx).paginate({"numItems": 2, "cursor": first})
        return [d["y"] for d in page["page"]], page["isDone"]

    @internal_query
    def page1(ctx, args):
        return q(ctx).paginate({"numItems": 2, "cursor": None})["continueCursor"]

    @query
    async def run_async(ctx, args):
        return [d["y"] async for d in q(ctx)] + [(await q(ctx).first())["y"]]

    t = ConvexEmulator(modules={"m": {"seed": seed, "run": run, "page2": page2, "page1": page1,
                                      "run_async": run_async}}, schema=schema, start_time=START)
    t.mutation("m:seed")
    assert t.query("m:run") == {"collect": [6, 5, 4], "take": [6], "first": 6, "iter": [6, 5, 4], "unique": 9,
                                "page1": [[6, 5], False, True]}
    assert t.query("m:page2") == [[4], True]
    assert t.query("m:run_async") == [6, 5, 4, 6]


# "Convex's camelCase names (runAfter, runAt, runMutation, getUserIdentity, withIndex, normalizeId,
# ...) are accepted as aliases on ctx objects, so code ported line by line from Convex's docs runs"
@mutation
def camel_mutation(ctx, args):
    doc_id = ctx.db.insert("t", {"x": 1})
    ids = [ctx.scheduler.runAfter(0, internal.camel.noop, {}), ctx.scheduler.runAt(T0, internal.camel.noop, {})]
    ctx.scheduler.cancel(ids[1])
    return {
        "identity": ctx.auth.getUserIdentity(),
        "normalized": ctx.db.normalizeId("t", doc_id) == doc_id,
        "system_normalized": ctx.db.system.normalizeId("_scheduled_functions", ids[0]) == ids[0],
        "withIndex": len(ctx.db.query("t").withIndex("by_creation_time").collect()),
        "runQuery": ctx.runQuery(internal.camel.q, {}),
        "runMutation": ctx.runMutation(internal.camel.noop, {}),
        "getUrl": _has(ctx.storage, "getUrl"),
        "meta": ctx.meta.getFunctionMetadata()["name"],
        "upload": ctx.storage.generateUploadUrl().startswith("http"),
    }


@query
def camel_query(ctx, args):
    return {"identity": ctx.auth.getUserIdentity()["subject"], "runQuery": ctx.runQuery(internal.camel.q, {}),
            "withIndex": len(ctx.db.query("t").withIndex("by_creation_time", lambda q: q.gte("_creationTime", 0))
                             .collect())}


@internal_query
def q(ctx, args):
    return "q"


@internal_mutation
def noop(ctx, args):
    return "noop"


@action
async def camel_action(ctx, args):
    stored = await ctx.storage.store(b"hi")
    return {
        "identity": (await ctx.auth.getUserIdentity())["subject"],
        "runQuery": await ctx.runQuery(internal.camel.q, {}),
        "runMutation": await ctx.runMutation(internal.camel.noop, {}),
        "runAction": await ctx.runAction(internal.camel.inner_action, {}),
        "runAfter": (await ctx.scheduler.runAfter(0, internal.camel.noop, {})).table,
        "runAt": (await ctx.scheduler.runAt(T0, internal.camel.noop, {})).table,
        "getUrl": (await ctx.storage.getUrl(stored)).startswith("http"),
        "uploadUrl": (await ctx.storage.generateUploadUrl()).startswith("http"),
    }


@internal_action
def inner_action(ctx, args):
    return "inner"


def test_camel_case_aliases_on_every_ctx_object():
    t = emu(camel={"camel_mutation": camel_mutation, "camel_query": camel_query, "q": q, "noop": noop,
                   "camel_action": camel_action, "inner_action": inner_action})
    caller = t.with_identity({"subject": "u"})
    out = caller.mutation("camel:camel_mutation")
    assert out == {"identity": {**out["identity"], "subject": "u"}, "normalized": True, "system_normalized": True,
                   "withIndex": 1, "runQuery": "q", "runMutation": "noop", "getUrl": True,
                   "meta": "camel:camel_mutation", "upload": True}
    assert caller.query("camel:camel_query") == {"identity": "u", "runQuery": "q", "withIndex": 1}
    assert caller.action("camel:camel_action") == {
        "identity": "u", "runQuery": "q", "runMutation": "noop", "runAction": "inner",
        "runAfter": "_scheduled_functions",
        "runAt": "_scheduled_functions", "getUrl": True, "uploadUrl": True}


# =====================================================================================
# DESIGN.md: the emulator
# =====================================================================================

# "ConvexEmulator(app, *, start_time=None, schema=None, modules=None)"
def test_the_constructor_signature():
    import inspect

    params = inspect.signature(ConvexEmulator.__init__).parameters
    assert list(params)[:2] == ["self", "app"]
    for name in ("start_time", "schema", "modules"):
        assert params[name].kind is inspect.Parameter.KEYWORD_ONLY and params[name].default is None
    assert params["app"].default is None  # modules= alone builds an app
    before = time.time() * 1000
    t = ConvexEmulator(modules={})
    assert before - 1000 <= t.now <= time.time() * 1000 + 1000  # start_time=None: now
    for start in (START, T0, datetime(2030, 1, 1, tzinfo=timezone.utc)):
        assert ConvexEmulator(modules={}, start_time=start).now == T0


# "Crons in the app are registered at construction ("deploy")."  (also the first interval run is at deploy)
def test_crons_are_registered_at_construction():
    from convex_py import cron_jobs

    @internal_mutation
    def f(ctx, args):
        pass

    crons = cron_jobs()
    crons.interval("i", {"hours": 1}, internal.m.f)
    t = ConvexEmulator(modules={"m": {"f": f}, "crons": {"crons": crons}}, start_time=START)
    assert t.cron_runs() == []  # nothing runs until time is told to move
    t.advance(0)
    assert [r["time"] for r in t.cron_runs("i")] == [T0]


# "Calls: query, mutation, action (reference or an inline function of ctx), run (inline, mutation
# ctx), with_identity({...}) -> a caller with that identity."
def test_calls_by_reference_or_inline():
    t = emu()
    doc_id = t.mutation(lambda ctx: ctx.db.insert("t", {"n": 1}))
    assert t.query(lambda ctx: ctx.db.get(doc_id)["n"]) == 1
    assert t.run(lambda ctx: ctx.db.insert("t", {"n": 2})).table == "t"
    assert t.action(lambda ctx: ctx.auth.get_user_identity()) is None
    alice = t.with_identity({"subject": "alice", "name": "Alice"})
    identity = alice.query(lambda ctx: ctx.auth.get_user_identity())
    assert identity["subject"] == "alice" and identity["name"] == "Alice"
    assert alice.action(lambda ctx: ctx.auth.get_user_identity()["subject"]) == "alice"
    assert alice.mutation(lambda ctx: ctx.auth.get_user_identity()["subject"]) == "alice"


# "Time: now (ms), advance(ms=0, *, seconds=, minutes=, hours=, days=) or a timedelta,
# advance_to(ts or datetime). Time moves only when told to."
def test_now_advance_and_advance_to():
    t = emu()
    assert t.now == T0
    t.advance(500)
    t.advance(ms=500)
    assert t.now == T0 + 1000
    t.advance(seconds=1, minutes=1, hours=1, days=1)
    assert t.now == T0 + 1000 + SECOND + MINUTE + HOUR + DAY
    t.advance(timedelta(days=1, seconds=1))
    assert t.now == T0 + 1000 + 2 * SECOND + MINUTE + HOUR + 2 * DAY
    t.advance()
    assert t.now == T0 + 1000 + 2 * SECOND + MINUTE + HOUR + 2 * DAY
    t.advance_to(T0 + 10 * DAY)
    assert t.now == T0 + 10 * DAY
    t.advance_to(datetime(2030, 1, 20, tzinfo=timezone.utc))
    assert t.now == T0 + 19 * DAY
    time.sleep(0.002)
    assert t.now == T0 + 19 * DAY  # only when told
    with pytest.raises(ValueError):
        t.advance_to(T0)


# "Everything due in the window runs in order of (scheduled time, scheduling order), each at its own
# virtual time, so a function scheduled by a scheduled function inside the window also runs."
@mutation
def plan(ctx, args):
    ctx.scheduler.run_after(2000, internal.order.step, {"label": "b", "then": None})
    ctx.scheduler.run_after(1000, internal.order.step, {"label": "a", "then": 500})
    ctx.scheduler.run_after(2000, internal.order.step, {"label": "c", "then": None})


@internal_mutation
def step(ctx, args):
    ctx.db.insert("log", {"label": args["label"], "at": ctx.run_query(internal.order.clock, {})})
    if args["then"] is not None:
        ctx.scheduler.run_after(args["then"], internal.order.step, {"label": args["label"] + "'", "then": None})


@internal_query
def clock(ctx, args):
    return time.time() * 1000


def test_due_work_runs_in_order_each_at_its_own_time():
    t = emu(order={"plan": plan, "step": step, "clock": clock})
    t.mutation("order:plan")
    with t:
        t.advance(seconds=2)
    log = t.run(lambda ctx: [(d["label"], d["at"]) for d in ctx.db.query("log").collect()])
    assert log == [("a", T0 + 1000), ("a'", T0 + 1500), ("b", T0 + 2000), ("c", T0 + 2000)]


# "Draining: finish_all_scheduled_functions(max_iterations=...) jumps from due time to due time until
# nothing is pending (crons excluded, or it would never end) and raises on runaway self-scheduling"
@internal_mutation
def forever(ctx, args):
    ctx.scheduler.run_after(1000, internal.drain.forever, {})


@mutation
def chain(ctx, args):
    ctx.scheduler.run_after(DAY, internal.drain.link, {"left": 3})


@internal_mutation
def link(ctx, args):
    ctx.db.insert("links", {"left": args["left"]})
    if args["left"] > 0:
        ctx.scheduler.run_after(HOUR, internal.drain.link, {"left": args["left"] - 1})


def test_finish_all_scheduled_functions():
    from convex_py import cron_jobs

    crons = cron_jobs()
    crons.interval("c", {"minutes": 1}, internal.drain.link, {"left": -1})
    t = ConvexEmulator(modules={"drain": {"forever": forever, "chain": chain, "link": link},
                                "crons": {"crons": crons}}, start_time=START)
    t.mutation("drain:chain")
    t.finish_all_scheduled_functions()
    assert t.now == T0 + DAY + 3 * HOUR
    assert t.run(lambda ctx: [d["left"] for d in ctx.db.query("links").collect() if d["left"] >= 0]) == [3, 2, 1, 0]
    assert t.scheduled_functions(state="pending") == []
    t.run(lambda ctx: ctx.scheduler.run_after(0, internal.drain.forever, {}))
    # convex-test's words, which its own suite matches: "Check for infinitely recursive scheduled functions"
    with pytest.raises(ConvexPyError, match="Check for infinitely recursive scheduled functions"):
        t.finish_all_scheduled_functions(max_iterations=10)
    with pytest.raises(ConvexPyError, match="too many iterations"):
        t.finish_all_scheduled_functions(max_iterations=20)


# "finish_in_progress_scheduled_functions() settles what has started."
@internal_action
async def slow(ctx, args):
    await asyncio.sleep(30)
    await ctx.run_mutation(internal.slowm.mark, {})


@internal_mutation
def mark(ctx, args):
    ctx.db.insert("marks", {})


def test_finish_in_progress_scheduled_functions():
    t = emu(slowm={"slow": slow, "mark": mark})
    t.run(lambda ctx: ctx.scheduler.run_after(0, internal.slowm.slow, {}))
    t.advance(0)
    assert [j["state"]["kind"] for j in t.scheduled_functions()] == ["inProgress"]
    t.finish_in_progress_scheduled_functions()
    assert [j["state"]["kind"] for j in t.scheduled_functions()] == ["success"]
    assert t.now == T0 + 30_000
    assert t.run(lambda ctx: len(ctx.db.query("marks").collect())) == 1


# "Inspection: scheduled_functions(state=None), cron_runs(name=None), the log of executions with their
# virtual times and outcomes." / "jobs = t.scheduled_functions()  # the _scheduled_functions documents"
def test_inspection():
    from convex_py import cron_jobs

    @internal_mutation
    def ok(ctx, args):
        pass

    @internal_mutation
    def bad(ctx, args):
        raise ValueError("bad")

    crons = cron_jobs()
    crons.interval("one", {"seconds": 30}, internal.m.ok)
    crons.interval("two", {"seconds": 45}, internal.m.bad)
    t = ConvexEmulator(modules={"m": {"ok": ok, "bad": bad}, "crons": {"crons": crons}}, start_time=START)
    a = t.run(lambda ctx: ctx.scheduler.run_after(1000, internal.m.ok, {"x": 1}))
    b = t.run(lambda ctx: ctx.scheduler.run_after(2000, internal.m.bad))
    c = t.run(lambda ctx: ctx.scheduler.run_after(9000, internal.m.ok))
    t.advance(seconds=5)
    jobs = t.scheduled_functions()
    assert [j["_id"] for j in jobs] == [a, b, c]
    assert jobs[0] == {"_id": a, "_creationTime": jobs[0]["_creationTime"], "name": "m:ok", "args": [{"x": 1}],
                       "scheduledTime": T0 + 1000, "completedTime": T0 + 1000, "state": {"kind": "success"}}
    assert jobs[1]["state"]["kind"] == "failed" and "bad" in jobs[1]["state"]["error"]
    assert "completedTime" not in jobs[2]
    assert [j["_id"] for j in t.scheduled_functions(state="pending")] == [c]
    assert [j["_id"] for j in t.scheduled_functions("failed")] == [b]
    t.advance(seconds=40)
    assert [r["time"] for r in t.cron_runs(name="one")] == [T0, T0 + 30_000]
    assert [r["name"] for r in t.cron_runs()] == ["one", "two", "one", "two"]
    assert [(e["time"], e["function"], e["outcome"]) for e in t.timeline()][:3] == [
        (T0, "m:ok", "success"), (T0, "m:bad", "failed"), (T0 + 1000, "m:ok", "success")]


# "Wall clock outside pytest: with ConvexEmulator(app) as t: holds time.time() and datetime.now() at
# the virtual time inside the block (in the caller and inside functions)"
@query
def wall(ctx, args):
    return time.time() * 1000


def test_the_with_block_holds_the_wall_clock():
    with ConvexEmulator(modules={"w": {"wall": wall}}, start_time=START) as t:
        assert time.time() * 1000 == T0
        assert datetime.now(timezone.utc) == datetime(2030, 1, 1, tzinfo=timezone.utc)
        t.advance(hours=1)
        assert time.time() * 1000 == T0 + HOUR
        assert t.query("w:wall") == T0 + HOUR
    assert abs(time.time() * 1000 - T0) > DAY


# =====================================================================================
# DESIGN.md: the pytest plugin
# =====================================================================================

PLUGIN_APP = '''
from convex_py import env, internal, internal_mutation, mutation, query


@mutation
def many(ctx, args):
    for _ in range(args["n"]):
        ctx.scheduler.run_after(0, internal.limits.seen)


@mutation
def big(ctx, args):
    ctx.scheduler.run_after(0, internal.limits.seen, {"blob": "x" * (8 * 1024 * 1024)})


@mutation
def far(ctx, args):
    ctx.scheduler.run_at(args["at"], internal.limits.seen)


@mutation
def as_user(ctx, args):
    ctx.scheduler.run_after(0, internal.limits.seen)


@internal_mutation
def seen(ctx, args):
    ctx.db.insert("seen", {"identity": ctx.auth.get_user_identity()})


@query
def identities(ctx, args):
    return [d["identity"] for d in ctx.db.query("seen").collect()]


@query
def secret(ctx, args):
    return env.get("SECRET")
'''

PLUGIN_TEST = '''
import time
from datetime import datetime, timezone

import pytest

from convex_py import env
from convex_py.errors import ConvexPyError

T0 = 1893456000000.0


@pytest.mark.convex_time("2030-01-01T00:00:00Z")
def test_ini_app_time_and_wall_clock(convex):
    assert convex.now == T0
    assert time.time() * 1000 == T0
    convex.advance(hours=2)
    assert datetime.now(timezone.utc) == datetime(2030, 1, 1, 2, tzinfo=timezone.utc)


@pytest.mark.convex_time("2030-01-01T00:00:00Z")
def test_limits_raise_clear_exceptions(convex):
    with pytest.raises(ConvexPyError, match=r"Too many functions scheduled by this mutation \\(limit: 1000\\)"):
        convex.mutation("limits:many", {"n": 1001})
    convex.mutation("limits:many", {"n": 1000})
    with pytest.raises(ConvexPyError, match=r"Too large total size of the arguments of scheduled functions"):
        convex.mutation("limits:big", {})
    with pytest.raises(ConvexPyError, match="more than 5 years in the future"):
        convex.mutation("limits:far", {"at": T0 + 5 * 366 * 86400000 + 1})
    with pytest.raises(ConvexPyError, match="more than 5 years in the past"):
        convex.mutation("limits:far", {"at": T0 - 5 * 366 * 86400000 - 1})


def test_no_auth_in_scheduled_functions(convex):
    convex.with_identity({"subject": "u"}).mutation("limits:as_user", {})
    convex.finish_all_scheduled_functions()
    assert convex.query("limits:identities", {}) == [None]


@pytest.mark.convex_env({"SECRET": "s3"})
def test_env_marker(convex):
    assert convex.query("limits:secret", {}) == "s3"
    assert env["SECRET"] == "s3"


@pytest.mark.convex_app("other")
def test_marker_names_the_app(convex):
    assert convex.query("hello:hi", {}) == "hi"
'''


@pytest.mark.parametrize("wall_clock", [None, "freezegun"])
def test_the_plugin_fixture_markers_ini_and_limits(pytester, wall_clock):
    (pytester.path / "app" / "convex").mkdir(parents=True)
    (pytester.path / "app" / "convex" / "limits.py").write_text(PLUGIN_APP)
    (pytester.path / "other" / "convex").mkdir(parents=True)
    (pytester.path / "other" / "convex" / "hello.py").write_text(
        "from convex_py import query\n@query\ndef hi(ctx, args):\n    return 'hi'\n")
    lines = ["[pytest]", "convex_app = app"] + ([f"convex_wall_clock = {wall_clock}"] if wall_clock else [])
    pytester.makeini("\n".join(lines) + "\n")
    pytester.makepyfile(test_inner=PLUGIN_TEST)
    result = pytester.runpytest("-p", "no:cacheprovider", "-p", "no:hypothesispytest")
    result.assert_outcomes(passed=5)


# =====================================================================================
# DESIGN.md: command line
# =====================================================================================

# "convex-py simulate APP --for 7d runs an app on the virtual clock and prints a timeline of what ran
# when (the demo); convex-py run APP FUNCTION '{json}' calls one function"
def test_the_command_line():
    import json
    import shutil
    import subprocess

    root = Path(__file__).resolve().parents[1]
    orders = str(root / "fixtures" / "orders")
    exe = shutil.which("convex-py")
    assert exe is not None
    out = subprocess.run([exe, "simulate", orders, "--for", "7d", "--start", START,
                          "--call", 'orders:create_order {"items": ["book"]}'],
                         capture_output=True, text=True, check=True).stdout
    assert "2030-01-08 00:00:00.000Z  orders:archive_order" in out
    assert "2030-01-01 00:00:00.000Z  emails:send_confirmation" in out
    result = subprocess.run([exe, "run", orders, "orders:by_status", '{"status": "new"}'],
                            capture_output=True, text=True, check=True).stdout
    assert json.loads(result.strip().splitlines()[-1]) == []


# =====================================================================================
# DESIGN.md / SEMANTICS.md: HTTP actions
# =====================================================================================

@http_action
async def _any_http_action(ctx, request):
    from convex_py import Response

    return Response("any")


def _http_app():
    from convex_py import Response, http_action, http_router

    @http_action
    async def hook(ctx, request):
        body = await request.json()
        identity = await ctx.auth.get_user_identity()
        job = await ctx.scheduler.run_after(0, internal.hooks.save, {"body": body})
        await ctx.run_mutation(internal.hooks.save, {"body": {"direct": True}})
        return Response(
            f"{request.method} {request.url} {request.headers.get('x-test')} {identity and identity['subject']} "
            f"{job.table}",
            status=201, headers={"X-Reply": "yes"})

    @http_action
    async def files(ctx, request):
        if request.method == "GET":
            return Response((await request.bytes()) + b"|" + request.url.encode())
        return Response((await request.text()).encode() + b"|" + request.url.encode())

    @http_action
    async def exact(ctx, request):
        return Response("exact")

    @http_action
    async def deeper(ctx, request):
        return Response("deeper")

    @http_action
    async def boom(ctx, request):
        raise RuntimeError("handler broke")

    @http_action
    async def nothing(ctx, request):
        return Response()

    @internal_mutation
    def save(ctx, args):
        ctx.db.insert("saved", args["body"])

    http = http_router()
    http.route(path="/hook", method="POST", handler=hook)
    # As in Convex, a route registered after a prefix that covers it is refused ("... is shadowed by
    # pathPrefix ..."), so the exact path and the longer prefix come first.
    http.route(path="/files/exact", method="GET", handler=exact)
    http.route(path_prefix="/files/deep/", method="GET", handler=deeper)
    http.route(path_prefix="/files/", method="GET", handler=files)
    http.route(path_prefix="/files/", method="POST", handler=files)
    http.route(path="/boom", method="GET", handler=boom)
    http.route(path="/nothing", method="GET", handler=nothing)
    return ConvexEmulator(modules={"http": {"http": http}, "hooks": {"save": save}}, start_time=START)


# "convex/http.py exports http = http_router(); routes are added with http.route(path="/hook",
# method="POST", handler=fn) or http.route(path_prefix="/files/", method="GET", handler=fn).
# Handlers are @http_action functions async def fn(ctx, request) -> Response with an action's ctx
# (run_query, run_mutation, run_action, scheduler, storage, auth). request is fetch-like: .method,
# .url, .headers, await request.json(), await request.text(), await request.bytes().
# Response(body=None, *, status=200, headers=None) with str/bytes body."
# "t.fetch(path, *, method="GET", headers=None, body=None) returns a response with .status_code,
# .headers, .content, .text, .json()"
def test_http_actions_and_fetch():
    t = _http_app()
    r = t.with_identity({"subject": "u9"}).fetch("/hook?x=1", method="POST", headers={"X-Test": "t"},
                                                 body=b'{"a": 1}')
    assert r.status_code == 201
    assert r.headers["x-reply"] == "yes"
    method, url, header, subject, table = r.text.split(" ")
    assert (method, header, subject, table) == ("POST", "t", "u9", "_scheduled_functions")
    assert url.endswith("/hook?x=1") and url.startswith("http")
    t.advance(0)
    assert t.run(lambda ctx: [{k: d[k] for k in d if not k.startswith("_")} for d in ctx.db.query("saved").collect()]) \
        == [{"direct": True}, {"a": 1}]  # the scheduled one runs after the handler
    r = t.fetch("/files/a/b.txt", method="POST", body="héllo")
    assert r.content.startswith("héllo|".encode())
    assert r.content.endswith(b"/files/a/b.txt")
    assert _http_app().fetch("/hook", method="POST", body='{"a": 2}').json is not None
    r = t.fetch("/nothing")
    assert (r.status_code, r.content) == (200, b"")


# SEMANTICS: "Routing: an exact path wins over a path_prefix; among prefixes the longest wins; a prefix
# ends with /. No route: status 404 with the text "No HttpAction routed for <path>". A handler that
# raises answers status 500 ... and the error is logged."
def test_http_routing_and_errors():
    from convex_py import http_router

    t = _http_app()
    assert t.fetch("/files/exact").text == "exact"
    assert t.fetch("/files/deep/x").text == "deeper"
    assert t.fetch("/files/other").text.startswith("|http")
    r = t.fetch("/nowhere")
    assert (r.status_code, r.text) == (404, "No HttpAction routed for /nowhere")
    r = t.fetch("/boom")
    assert r.status_code == 500
    assert [e["outcome"] for e in t.timeline() if e["function"].endswith("boom") or "boom" in str(e.get("error"))] \
        == ["failed"]
    with pytest.raises(ConvexPyError, match="pathPrefix /files must end with a /"):
        http_router().route(path_prefix="/files", method="GET", handler=_any_http_action)


# "HTTP actions run as actions (not transactions) with the caller's identity from Authorization: Bearer."
def test_http_action_identity_from_bearer_token():
    import base64
    import json

    from convex_py import Response, http_action, http_router

    @http_action
    async def who(ctx, request):
        identity = await ctx.auth.get_user_identity()
        return Response(identity["subject"] if identity else "nobody")

    http = http_router()
    http.route(path="/who", method="GET", handler=who)
    t = ConvexEmulator(modules={"http": {"http": http}}, start_time=START)

    def b64(obj):
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': 'jwt-user', 'iss': 'https://issuer.example'})}."
    assert t.fetch("/who").text == "nobody"
    assert t.fetch("/who", headers={"Authorization": f"Bearer {token}"}).text == "jwt-user"


# =====================================================================================
# DESIGN.md / SEMANTICS.md: file storage
# =====================================================================================

@action
async def store_file(ctx, args):
    storage_id = await ctx.storage.store(b"hello bytes", content_type="text/plain")
    plain = await ctx.storage.store(b"no type")
    return {"id": storage_id, "plain": plain, "get": await ctx.storage.get(storage_id),
            "url": await ctx.storage.get_url(storage_id)}


@query
def file_meta(ctx, args):
    return {"row": ctx.db.system.get(args["id"]), "url": ctx.storage.get_url(args["id"])}


@mutation
def file_mutation(ctx, args):
    url = ctx.storage.get_url(args["id"])
    upload = ctx.storage.generate_upload_url()
    ctx.storage.delete(args["id"])
    return {"url": url, "upload": upload}


@action
async def file_after_delete(ctx, args):
    return {"get": await ctx.storage.get(args["id"]), "url": await ctx.storage.get_url(args["id"])}


# "ctx.storage: store(data: bytes, content_type=None) (actions) -> an Id("_storage"); get(id) -> bytes |
# None (actions); get_url(id) -> str | None (every kind); delete(id) (mutations, actions);
# generate_upload_url() (mutations, actions). Metadata is the system table _storage
# (ctx.db.system.get(id))." SEMANTICS: "_storage rows: {_id, _creationTime, sha256 (base64), size,
# contentType?}. get/get_url of a deleted file return None. An upload URL accepts one POST of the raw
# bytes and answers {"storageId": id}."
def test_file_storage():
    import base64
    import hashlib

    t = emu(files={"store_file": store_file, "file_meta": file_meta, "file_mutation": file_mutation,
                   "file_after_delete": file_after_delete})
    out = t.action("files:store_file")
    storage_id = out["id"]
    assert isinstance(storage_id, Id) and storage_id.table == "_storage"
    assert out["get"] == b"hello bytes"
    assert t.fetch(out["url"]).content == b"hello bytes"
    meta = t.query("files:file_meta", {"id": storage_id})
    assert meta["url"] == out["url"]
    row = meta["row"]
    assert row == {"_id": storage_id, "_creationTime": row["_creationTime"],
                   "sha256": base64.b64encode(hashlib.sha256(b"hello bytes").digest()).decode(),
                   "size": 11, "contentType": "text/plain"}
    assert "contentType" not in t.query("files:file_meta", {"id": out["plain"]})["row"]
    done = t.mutation("files:file_mutation", {"id": storage_id})
    assert done["url"] == out["url"]
    assert t.action("files:file_after_delete", {"id": storage_id}) == {"get": None, "url": None}
    assert t.query("files:file_meta", {"id": storage_id}) == {"row": None, "url": None}
    r = t.fetch(done["upload"], method="POST", body=b"uploaded", headers={"Content-Type": "image/png"})
    assert r.status_code == 200
    new_id = r.json()["storageId"]
    assert t.query("files:file_meta", {"id": new_id})["row"] == {
        "_id": new_id, "_creationTime": t.query("files:file_meta", {"id": new_id})["row"]["_creationTime"],
        "sha256": base64.b64encode(hashlib.sha256(b"uploaded").digest()).decode(), "size": 8,
        "contentType": "image/png"}


# "store(...) (actions)", "delete(id) (mutations, actions)", "generate_upload_url() (mutations, actions)":
# a query may not write files.
@query
def query_writes_file(ctx, args):
    out = []
    for name in ("generate_upload_url", "delete", "store"):
        try:
            method = getattr(ctx.storage, name)
        except AttributeError:
            out.append(name)
            continue
        try:
            method() if name == "generate_upload_url" else method(args["id"]) if name == "delete" else method(b"x")
        except (ConvexPyError, AttributeError, TypeError):
            out.append(name)
    return out


@mutation
def mutation_stores_file(ctx, args):
    try:
        ctx.storage.store(b"x")
    except (ConvexPyError, AttributeError):
        return "refused"
    return "stored"


def test_storage_methods_by_function_kind():
    t = emu(files={"store_file": store_file, "query_writes_file": query_writes_file,
                   "mutation_stores_file": mutation_stores_file})
    storage_id = t.action("files:store_file")["id"]
    assert t.query("files:query_writes_file", {"id": storage_id}) == ["generate_upload_url", "delete", "store"]
    assert t.mutation("files:mutation_stores_file") == "refused"


# =====================================================================================
# DESIGN.md / SEMANTICS.md: search
# =====================================================================================

def _search_app(**extra):
    from convex_py import define_schema, define_table

    schema = define_schema({"messages": define_table({"body": v.any(), "channel": v.string(), "author": v.string(),
                                                      "embedding": v.array(v.float64())})
                            .search_index("search_body", {"searchField": "body", "filterFields": ["channel"]})
                            .vector_index("by_embedding", {"vectorField": "embedding", "dimensions": 3,
                                                           "filterFields": ["author"]})})

    @mutation
    def seed(ctx, args):
        rows = [
            ("hello world", "#general", "a", [1.0, 0.0, 0.0]),
            ("Hello there, wonderful world of hellos", "#general", "b", [0.9, 0.1, 0.0]),
            ("world peace", "#random", "a", [0.0, 1.0, 0.0]),
            ("HELLO WORKERS", "#general", "c", [0.0, 0.0, 1.0]),
            (42, "#general", "a", [-1.0, 0.0, 0.0]),
        ]
        for body, channel, author, embedding in rows:
            ctx.db.insert("messages", {"body": body, "channel": channel, "author": author, "embedding": embedding})

    @query
    def search(ctx, args):
        def q():
            return ctx.db.query("messages").with_search_index(
                "search_body", lambda q: q.search("body", args["text"]).eq("channel", "#general"))
        page = q().paginate({"numItems": 1, "cursor": None})
        return {"collect": [d["body"] for d in q().collect()], "take": [d["body"] for d in q().take(1)],
                "first": (q().first() or {}).get("body"), "page": [d["body"] for d in page["page"]],
                "isDone": page["isDone"]}

    @action
    def nearest(ctx, args):
        return ctx.vector_search("messages", "by_embedding", args)

    @query
    def query_has_vector_search(ctx, args):
        return _has(ctx, "vector_search")

    t = ConvexEmulator(modules={"m": {"seed": seed, "search": search, "nearest": nearest,
                                      "query_has_vector_search": query_has_vector_search, **extra}},
                       schema=schema, start_time=START)
    t.mutation("m:seed")
    return t


# "Text search: ctx.db.query("messages").with_search_index("search_body", lambda q: q.search("body",
# "hello wor").eq("channel", "#general")) then take/collect/first/paginate, in relevance order."
# SEMANTICS: "the search string is split into terms, case-insensitive; a document matches if its search
# field contains a term, the last term also matching as a prefix; ... filter fields take eq only;
# A search index's field must be a string; other values are simply not indexed."
def test_text_search():
    t = _search_app()
    out = t.query("m:search", {"text": "hello wor"})
    assert set(out["collect"]) == {"hello world", "Hello there, wonderful world of hellos", "HELLO WORKERS"}
    assert out["collect"][2] == "Hello there, wonderful world of hellos"  # the longest field scores least
    assert out["take"] == [out["collect"][0]] and out["first"] == out["collect"][0]
    assert out["page"] == [out["collect"][0]] and out["isDone"] is False
    assert t.query("m:search", {"text": "peace"})["collect"] == []  # #random is filtered out
    assert t.query("m:search", {"text": "42"})["collect"] == []  # a number is not indexed


# "Vector search (actions): ctx.vector_search("messages", "by_embedding", {"vector": [...], "limit": 10,
# "filter": lambda q: q.eq("author", "a")}) -> [{"_id": ..., "_score": ...}, ...], most similar first."
# SEMANTICS: "cosine similarity, _score in [-1, 1]; limit 1 to 256 (default 10); filter takes eq on
# filter fields and or_ of those; a vector of the wrong length is an error naming the expected dimensions."
def test_vector_search():
    t = _search_app()
    hits = t.action("m:nearest", {"vector": [1.0, 0.0, 0.0]})
    assert [round(h["_score"], 6) for h in hits] == [1.0, round(0.9 / (0.82 ** 0.5), 6), 0.0, 0.0, -1.0]
    assert all(set(h) == {"_id", "_score"} and h["_id"].table == "messages" for h in hits)

    @action
    def by_author(ctx, args):
        hits = ctx.vector_search("messages", "by_embedding", {"vector": [1.0, 0.0, 0.0], "limit": 2,
                                                              "filter": lambda q: q.eq("author", "a")})
        either = ctx.vector_search("messages", "by_embedding", {
            "vector": [1.0, 0.0, 0.0], "filter": lambda q: q.or_(q.eq("author", "b"), q.eq("author", "c"))})
        docs = [ctx.run_query(internal.m.get, {"id": h["_id"]}) for h in hits + either]
        return [d["author"] for d in docs]

    @internal_query
    def get(ctx, args):
        return ctx.db.get(args["id"])

    t = _search_app(by_author=by_author, get=get)
    assert t.action("m:by_author") == ["a", "a", "b", "c"]
    assert t.query("m:query_has_vector_search") is False
    with pytest.raises(ConvexPyError, match="3"):
        t.action("m:nearest", {"vector": [1.0, 0.0]})
    for limit in (0, 257):
        with pytest.raises(ConvexPyError):
            t.action("m:nearest", {"vector": [1.0, 0.0, 0.0], "limit": limit})
    assert len(t.action("m:nearest", {"vector": [1.0, 0.0, 0.0], "limit": 256})) == 5


# SEMANTICS: vector search "limit 1 to 256 (default 10)"; text search "a search query returns at most
# 1024 documents" (as Convex's SearchResultIterator: reading past the 1024th result is an error).
def test_search_result_caps():
    @mutation
    def many(ctx, args):
        for i in range(1030):
            ctx.db.insert("messages", {"body": f"hello {i}", "channel": "#general", "author": "z",
                                       "embedding": [1.0, float(i), 0.0]})

    @query
    def count_hits(ctx, args):
        q = ctx.db.query("messages").with_search_index("search_body", lambda q: q.search("body", "hello"))
        return len(q.take(args["n"]) if args.get("n") else q.collect())

    t = _search_app(many=many, count_hits=count_hits)
    t.mutation("m:many")
    assert len(t.action("m:nearest", {"vector": [1.0, 0.0, 0.0]})) == 10
    assert t.query("m:count_hits", {"n": 1024}) == 1024
    with pytest.raises(ConvexPyError, match=r"Search query scanned too many documents \(fetched 1024\)"):
        t.query("m:count_hits", {})


# =====================================================================================
# DESIGN.md / SEMANTICS.md: components and function handles
# =====================================================================================

COUNTER_FILES = {
    "counter/convex_config.py": """
        from convex_py import define_component
        counter = define_component("counter")
    """,
    "counter/schema.py": """
        from convex_py import define_schema, define_table, v
        schema = define_schema({"counts": define_table({"name": v.string(), "n": v.number()}).index("name", ["name"])})
    """,
    "counter/public.py": """
        from convex_py import api, mutation, query, v

        @mutation(args={"name": v.string(), "by": v.number()})
        def add(ctx, args):
            row = ctx.db.query("counts").with_index("name", lambda q: q.eq("name", args["name"])).unique()
            if row is None:
                ctx.db.insert("counts", {"name": args["name"], "n": args["by"]})
            else:
                ctx.db.patch(row["_id"], {"n": row["n"] + args["by"]})

        @query(args={"name": v.string()})
        def get(ctx, args):
            row = ctx.db.query("counts").with_index("name", lambda q: q.eq("name", args["name"])).unique()
            return 0 if row is None else row["n"]

        @query
        def who(ctx, args):
            return ctx.auth.get_user_identity()

        @mutation(args={"name": v.string()})
        def later(ctx, args):
            return ctx.scheduler.run_after(1000, api.public.add, {"name": args["name"], "by": 10})

        @query
        def tables(ctx, args):
            return [len(ctx.db.query("counts").collect()), len(ctx.db.query("notes").collect())]
    """,
}

APP_FILES = {
    "convex_config.py": """
        from convex_py import define_app
        from .counter.convex_config import counter
        app = define_app()
        app.use(counter)
        app.use(counter, name="counter2")
    """,
    "calls.py": """
        from convex_py import components, create_function_handle, mutation, query

        @mutation
        def bump(ctx, args):
            ctx.db.insert("notes", {"n": 1})
            ctx.run_mutation(components.counter.public.add, {"name": "a", "by": 1})
            ctx.run_mutation(components.counter2.public.add, {"name": "a", "by": 5})
            handle = create_function_handle(components.counter.public.add)
            ctx.run_mutation(handle, {"name": "a", "by": 100})
            ctx.scheduler.run_after(0, handle, {"name": "h", "by": 1})
            ctx.run_mutation(components.counter.public.later, {"name": "b"})
            return handle

        @query
        def read(ctx, args):
            return [ctx.run_query(components.counter.public.get, {"name": n}) for n in ("a", "b", "h")] + [
                ctx.run_query(components.counter2.public.get, {"name": "a"})]

        @query
        def who(ctx, args):
            return ctx.run_query(components.counter.public.who, {})
    """,
}


# "A component is a folder, laid out as Convex lays one out: a convex_config.py whose module-level value
# is define_component("name"), its schema.py, and its function modules, side by side. It may sit inside
# the app's convex/ folder ... The app's convex/convex_config.py exports app = define_app() and calls
# app.use(counter) or app.use(counter, name="counter2"). References into a component:
# components.counter.public.add (from convex_py). Each component has its own tables; identity does not
# pass into a component." "create_function_handle(ref) -> a string handle accepted wherever a reference is
# (run_*, ctx.scheduler)." SEMANTICS: "Scheduling inside a component works as in the app, and a function
# handle may be scheduled."
def test_components_and_function_handles(tmp_path):
    app = write_app(tmp_path / "app", {**COUNTER_FILES, **APP_FILES})
    t = ConvexEmulator(app, start_time=START)
    handle = t.mutation("calls:bump")
    assert isinstance(handle, str)
    assert t.query("calls:read") == [101, 0, 0, 5]
    t.advance(seconds=1)
    assert t.query("calls:read") == [101, 10, 1, 5]
    assert t.with_identity({"subject": "u"}).query("calls:who") is None
    from convex_py import components

    assert t.query(components.counter.public.tables) == [3, 0]  # its own "notes" table is empty
    assert t.run(lambda ctx: len(ctx.db.query("notes").collect())) == 1
    assert t.scheduled_functions(component="counter")[0]["name"] == "public:add"
    with pytest.raises(ConvexPyError):  # the component's folder is not part of the app's modules
        t.mutation("counter/public:add", {"name": "a", "by": 1})


# "Tests may add one by hand: t.register_component("counter", folder)."
def test_register_component_by_hand(tmp_path):
    from convex_py import components

    folder = write_app(tmp_path / "lib", {k.removeprefix("counter/"): s for k, s in COUNTER_FILES.items()}) / "convex"
    t = ConvexEmulator(modules={}, start_time=START)
    t.register_component("counter", folder)
    t.mutation(components.counter.public.add, {"name": "x", "by": 2})
    assert t.query(components.counter.public.get, {"name": "x"}) == 2


# =====================================================================================
# DESIGN.md: environment variables
# =====================================================================================

# "from convex_py import env: a read-only mapping of the running deployment's variables (Convex's
# process.env). ConvexEmulator(app, env={...}), t.set_env(name, value)"
@query
def read_env(ctx, args):
    from convex_py import env

    out = {"get": env.get("API_KEY"), "missing": env.get("NOPE"), "default": env.get("NOPE", "d")}
    try:
        env["NOPE"]
    except KeyError as exc:
        out["keyerror"] = "NOPE" in str(exc)
    try:
        env["X"] = "y"
    except TypeError:
        out["read_only"] = True
    return out


def test_env():
    t = ConvexEmulator(modules={"e": {"read_env": read_env}}, start_time=START, env={"API_KEY": "k1"})
    assert t.query("e:read_env") == {"get": "k1", "missing": None, "default": "d", "keyerror": True,
                                     "read_only": True}
    t.set_env("API_KEY", "k2")
    assert t.query("e:read_env")["get"] == "k2"
    t.set_env("API_KEY", None)
    assert t.query("e:read_env")["get"] is None


# =====================================================================================
# SEMANTICS.md: functions
# =====================================================================================

# "Validators are strict: a missing required field, an extra field, or a wrong type is an error naming
# the function, the path into the value and what was expected. A function with no args validator
# accepts any object."
def test_argument_validation_is_strict_and_names_function_path_and_expectation():
    @mutation(args={"user": v.object({"name": v.string(), "tags": v.array(v.string())})})
    def strict(ctx, args):
        return "ok"

    @mutation
    def loose(ctx, args):
        return args

    t = emu(val={"strict": strict, "loose": loose})
    assert t.mutation("val:strict", {"user": {"name": "n", "tags": []}}) == "ok"
    for bad, path in [({}, "user"), ({"user": {"name": "n", "tags": [], "x": 1}}, "x"),
                      ({"user": {"name": "n", "tags": ["a", 2]}}, "tags[1]")]:
        with pytest.raises(ConvexPyError) as caught:
            t.mutation("val:strict", bad)
        text = str(caught.value)
        assert "val:strict" in text and path in text, text
    with pytest.raises(ConvexPyError) as caught:
        t.mutation("val:strict", {"user": {"name": 5, "tags": []}})
    assert "string" in str(caught.value) and ".name" in str(caught.value)
    assert t.mutation("val:loose", {"anything": [1, {"x": None}]}) == {"anything": [1, {"x": None}]}


# "A query may not write; a write from a query is an error."
# "Internal functions are callable from other functions, the scheduler, crons, and the test harness"
def test_a_query_may_not_write_and_internal_functions_are_callable_from_the_harness():
    @query
    def writes(ctx, args):
        ctx.db.insert("t", {})

    @internal_query
    def secret(ctx, args):
        return "internal"

    t = emu(w={"writes": writes, "secret": secret})
    with pytest.raises(ConvexPyError):
        t.query("w:writes")
    assert t.query(internal.w.secret) == "internal"


# "Convex holds Date.now() fixed within one function execution (ours: the virtual clock does not move
# while a function runs)."
@mutation
def two_reads(ctx, args):
    first = time.time()
    sum(range(200_000))
    return [first * 1000, time.time() * 1000, datetime.now(timezone.utc).timestamp() * 1000]


def test_the_clock_is_fixed_within_a_function():
    with emu(clockm={"two_reads": two_reads}) as t:
        assert t.mutation("clockm:two_reads") == [T0, T0, T0]


# =====================================================================================
# SEMANTICS.md: values and documents
# =====================================================================================

# "Every document has _id (an Id of its table) and _creationTime (milliseconds since the epoch, float,
# strictly increasing within a deployment)."
def test_creation_time_strictly_increases():
    t = emu()
    ids = [t.mutation(lambda ctx: [ctx.db.insert("a", {}), ctx.db.insert("b", {})]) for _ in range(3)]
    times = t.run(lambda ctx: [ctx.db.get(i)["_creationTime"] for pair in ids for i in pair])
    assert all(type(x) is float for x in times)
    assert times == sorted(times) and len(set(times)) == 6
    assert T0 <= times[0] < T0 + 1


# "Field names: printable ASCII, at most 1024 characters, not starting with $; a top-level field
# starting with _ is only allowed for system fields. An int outside 64 bits is not a Convex value."
def test_field_names_and_int64_range():
    t = emu()
    for bad in ({"$x": 1}, {"_x": 1}, {"a" * 1025: 1}, {"é": 1}, {"n": 2 ** 63}, {"n": -(2 ** 63) - 1}):
        with pytest.raises(ConvexPyError):
            t.run(lambda ctx: ctx.db.insert("t", bad))
    doc_id = t.run(lambda ctx: ctx.db.insert("t", {"a" * 1024: 1, "nested": {"_ok": 1}, "n": 2 ** 63 - 1}))
    assert t.run(lambda ctx: ctx.db.get(doc_id))["n"] == 2 ** 63 - 1


def test_a_field_name_allowed_below_the_top_level_stays_reserved_at_the_top_level():
    # Names starting with '_' are fine inside a document's values (and a returned document's own
    # `_id` and `_creationTime` sit below the top level of a query's result): having checked one there
    # must never let it through as a document's own field, whatever the order.
    t = emu()
    doc_id = t.run(lambda ctx: ctx.db.insert("t", {"nested": {"_belowOnly": 1}, "docs": [{"_belowOnly": 2}]}))
    assert t.query(lambda ctx: ctx.db.query("t").collect())[0]["nested"] == {"_belowOnly": 1}
    assert t.query(lambda ctx: {"_belowOnly": [ctx.db.get(doc_id)]})["_belowOnly"][0]["_id"] == doc_id
    message = "Field name '_belowOnly' starts with '_', which is reserved for system fields."
    for write in (lambda ctx: ctx.db.insert("t", {"_belowOnly": 3}),
                  lambda ctx: ctx.db.insert("t", {"a": 1, "_belowOnly": 3}),
                  lambda ctx: ctx.db.patch(doc_id, {"_belowOnly": 3}),
                  lambda ctx: ctx.db.replace(doc_id, {"_belowOnly": 3})):
        with pytest.raises(ConvexPyError) as raised:
            t.run(write)
        assert str(raised.value) == message
    assert t.query(lambda ctx: [sorted(d) for d in ctx.db.query("t").collect()]) == [
        ["_creationTime", "_id", "docs", "nested"]]


# "Limits, each an error with Convex's wording when passed: a document at most 1 MiB ("Value is too
# large ..."), nested at most 16 levels ("Document is too nested ..."), arrays at most 8192 elements
# ("Array length is too long ..."), objects at most 1024 fields"
def test_document_limits_in_convexs_words():
    t = emu()

    def nested(depth):
        value = 1
        for _ in range(depth):
            value = {"a": value}
        return value

    cases = [({"s": "x" * (1 << 20)}, "Value is too large"), (nested(17), "Document is too nested"),
             ({"a": list(range(8193))}, "Array length is too long"),
             ({"o": {f"f{i}": i for i in range(1025)}}, None)]
    for doc, text in cases:
        with pytest.raises(ConvexPyError) as caught:
            t.run(lambda ctx: ctx.db.insert("t", doc))
        if text:
            assert str(caught.value).startswith(text), str(caught.value)
    t.run(lambda ctx: ctx.db.insert("t", {"a": list(range(8192)), "o": {f"f{i}": i for i in range(1023)}}))
    t.run(lambda ctx: ctx.db.insert("t", nested(15)))


# "per function execution at most 32,000 documents and 16 MiB read, 4,096 index ranges, 16,000 documents
# and 16 MiB written ("Too many documents read in a single function execution (limit: 32000)", "Too many
# writes in a single function execution (limit: 16000)")"
def test_transaction_limits_in_convexs_words():
    from emulator import Limits

    t = ConvexEmulator(modules={}, start_time=START, limits=Limits(max_documents_read=32_000))
    with pytest.raises(ConvexPyError) as caught:
        t.run(lambda ctx: [ctx.db.insert("t", {}) for _ in range(16_001)])
    assert str(caught.value).startswith("Too many writes in a single function execution (limit: 16000)")
    assert t.run(lambda ctx: len(ctx.db.query("t").collect())) == 0
    t.run(lambda ctx: [ctx.db.insert("t", {}) for _ in range(16_000)])
    t.run(lambda ctx: [ctx.db.insert("t", {}) for _ in range(16_000)])
    t.run(lambda ctx: ctx.db.insert("t", {}))
    with pytest.raises(ConvexPyError) as caught:
        t.query(lambda ctx: len(ctx.db.query("t").collect()))
    assert str(caught.value).startswith("Too many documents read in a single function execution (limit: 32000)")


# "patch merges top-level fields; replace swaps the whole document and keeps _id and _creationTime. A field
# given as None is stored as null. Python has no undefined, so removing a field with patch uses the
# sentinel convex_py.UNSET (ours)."
def test_patch_replace_none_and_unset():
    from convex_py import UNSET

    t = emu()
    doc_id = t.run(lambda ctx: ctx.db.insert("t", {"a": 1, "b": {"x": 1}, "c": 3}))
    created = t.run(lambda ctx: ctx.db.get(doc_id))["_creationTime"]
    t.run(lambda ctx: ctx.db.patch(doc_id, {"b": {"y": 2}, "c": None, "d": 4}))
    assert {k: v for k, v in t.run(lambda ctx: ctx.db.get(doc_id)).items() if not k.startswith("_")} == \
        {"a": 1, "b": {"y": 2}, "c": None, "d": 4}
    t.run(lambda ctx: ctx.db.patch(doc_id, {"a": UNSET}))
    assert "a" not in t.run(lambda ctx: ctx.db.get(doc_id))
    t.run(lambda ctx: ctx.db.replace(doc_id, {"z": 1}))
    assert t.run(lambda ctx: ctx.db.get(doc_id)) == {"_id": doc_id, "_creationTime": created, "z": 1}


# "Table scans run in _creationTime order; an index orders by its fields, then _creationTime. Index
# ranges: zero or more eq on a prefix of the index fields, then at most one lower bound (gt/gte) and one
# upper bound (lt/lte) on the next field." "Values of different types order as: null < int64 < float64 <
# boolean < string < bytes < array < object (a missing field sorts before null)."
def test_scan_order_index_order_and_type_order():
    from convex_py import define_schema, define_table

    schema = define_schema({"t": define_table({"k": v.optional(v.any()), "g": v.string()}).index("by_k", ["k"])
                            .index("by_gk", ["g", "k"])})
    values = [{"x": 1}, [1], b"b", "s", True, 1.5, 2, None]
    t = ConvexEmulator(modules={}, schema=schema, start_time=START)
    t.run(lambda ctx: [ctx.db.insert("t", {"k": value, "g": "a"}) for value in values])
    t.run(lambda ctx: ctx.db.insert("t", {"g": "a"}))
    t.run(lambda ctx: ctx.db.insert("t", {"k": 2, "g": "a"}))
    scan = t.query(lambda ctx: [d.get("k", "missing") for d in ctx.db.query("t").collect()])
    assert scan == values + ["missing", 2]
    by_k = t.query(lambda ctx: [d.get("k", "missing") for d in ctx.db.query("t").with_index("by_k").collect()])
    assert by_k == ["missing", None, 2, 2, 1.5, True, "s", b"b", [1], {"x": 1}]
    ranged = t.query(lambda ctx: [d["k"] for d in ctx.db.query("t").with_index(
        "by_gk", lambda q: q.eq("g", "a").gt("k", None).lte("k", "s")).collect()])
    assert ranged == [2, 2, 1.5, True, "s"]
    with pytest.raises(ConvexPyError):
        t.query(lambda ctx: ctx.db.query("t").with_index("by_gk", lambda q: q.gt("k", 1)).collect())


# =====================================================================================
# SEMANTICS.md: scheduler
# =====================================================================================

@internal_mutation
def sched_work(ctx, args):
    ctx.db.insert("work", {"args": args, "identity": ctx.auth.get_user_identity()})
    return "done"


@internal_query
def sched_query(ctx, args):
    return 1


@internal_action
def sched_action(ctx, args):
    ctx.run_mutation(internal.s.sched_work, {"from": "action"})


@mutation
def sched_call(ctx, args):
    """Call ctx.scheduler.<method>(*params) and return what it returns."""
    method = getattr(ctx.scheduler, args["method"])
    return method(*args["params"])


@action
def sched_from_action(ctx, args):
    job = ctx.scheduler.run_after(0, internal.s.sched_work, {"from": "action"})
    if args.get("fail"):
        raise ConvexError("action failed")
    return job


def sched_emu(**kwargs):
    return ConvexEmulator(modules={"s": {"sched_work": sched_work, "sched_query": sched_query,
                                         "sched_action": sched_action, "sched_call": sched_call,
                                         "sched_from_action": sched_from_action}},
                          start_time=START, **kwargs)


def sched_error(t, method, *params):
    with pytest.raises(ConvexPyError) as caught:
        t.mutation("s:sched_call", {"method": method, "params": list(params)})
    return str(caught.value)


# "run_after(delay_ms, fn, args): delay_ms must be a number ("`delayMs` must be a number"), finite
# ("`delayMs` must be a finite number") and not negative ("`delayMs` must be non-negative"). Zero means:
# due as soon as the scheduling function completes."
def test_run_after_delay_errors_in_convexs_words():
    t = sched_emu()
    assert sched_error(t, "run_after", "5", "s:sched_work") == "`delayMs` must be a number"
    assert sched_error(t, "run_after", None, "s:sched_work") == "`delayMs` must be a number"
    assert sched_error(t, "run_after", float("inf"), "s:sched_work") == "`delayMs` must be a finite number"
    assert sched_error(t, "run_after", float("nan"), "s:sched_work") == "`delayMs` must be a finite number"
    assert sched_error(t, "run_after", -1, "s:sched_work") == "`delayMs` must be non-negative"
    job = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:sched_work"]})
    t.advance(0)
    assert t.run(lambda ctx: ctx.db.system.get(job)) == {
        "_id": job, "_creationTime": t.run(lambda ctx: ctx.db.system.get(job))["_creationTime"],
        "name": "s:sched_work", "args": [{}], "scheduledTime": T0, "completedTime": T0, "state": {"kind": "success"}}


# "run_at(ts, fn, args): ms since the epoch or a datetime (anything else: "The invoke time must be a Date
# or a timestamp"). A past time means due at once; scheduledTime keeps the time asked for. More than five
# years (5 x 366 days) from now either way is an error: "... is more than 5 years in the future" / "in
# the past"."
def test_run_at_errors_past_times_and_five_year_bounds():
    t = sched_emu()
    for bad in ("2030-01-02", None, [1], float("nan")):
        assert sched_error(t, "run_at", bad, "s:sched_work") == "The invoke time must be a Date or a timestamp"
    five_years = 5 * 366 * DAY
    assert sched_error(t, "run_at", T0 + five_years + 1, "s:sched_work").endswith("is more than 5 years in the future")
    assert sched_error(t, "run_at", T0 - five_years - 1, "s:sched_work").endswith("is more than 5 years in the past")
    assert sched_error(t, "run_after", five_years + 1, "s:sched_work").endswith("is more than 5 years in the future")
    t.mutation("s:sched_call", {"method": "run_at", "params": [T0 + five_years, "s:sched_work"]})
    t.mutation("s:sched_call", {"method": "run_after", "params": [five_years, "s:sched_work"]})
    past = t.mutation("s:sched_call", {"method": "run_at", "params": [T0 - five_years, "s:sched_work"]})
    t.advance(0)
    job = t.run(lambda ctx: ctx.db.system.get(past))
    assert (job["scheduledTime"], job["state"], job["completedTime"]) == (T0 - five_years, {"kind": "success"}, T0)


# "Arguments of a scheduled function must be an object (or absent, meaning {}); a reference to a function
# that does not exist is an error at scheduling time ("Attempted to schedule function at nonexistent path:
# ..."). Only mutations and actions can be scheduled." / "A scheduled function whose kind cannot be
# scheduled (a query) ends failed."
def test_scheduled_arguments_paths_and_kinds():
    t = sched_emu()
    sched_error(t, "run_after", 0, "s:sched_work", [1, 2])
    sched_error(t, "run_after", 0, "s:sched_work", "text")
    assert sched_error(t, "run_after", 0, "s:nope") == "Attempted to schedule function at nonexistent path: s:nope"
    assert sched_error(t, "run_at", T0, "s:nope", {}) == "Attempted to schedule function at nonexistent path: s:nope"
    a = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:sched_work"]})
    b = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:sched_work", None]})
    c = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:sched_query", {}]})
    t.advance(0)
    jobs = {j["_id"]: j for j in t.scheduled_functions()}
    assert jobs[a]["args"] == [{}] and jobs[b]["args"] == [{}]
    assert jobs[a]["state"] == {"kind": "success"}
    assert jobs[c]["state"]["kind"] == "failed" and jobs[c]["state"]["error"]


# "Both return the Id of a document in the system table _scheduled_functions: {name, args: [args],
# scheduledTime, completedTime?, state} with state one of {kind: "pending"}, {kind: "inProgress"},
# {kind: "success"}, {kind: "failed", error: str}, {kind: "canceled"}. Readable with ctx.db.system.get(id)
# and ctx.db.system.query("_scheduled_functions")."
@mutation
def read_jobs(ctx, args):
    return {"get": ctx.db.system.get(args["id"]),
            "query": [j["_id"] for j in ctx.db.system.query("_scheduled_functions").collect()]}


def test_job_documents_and_their_states():
    t = ConvexEmulator(modules={"s": {"sched_work": sched_work, "sched_action": sched_action, "read_jobs": read_jobs,
                                      "slow": slow, "sched_call": sched_call},
                                "slowm": {"mark": mark, "slow": slow}}, start_time=START)
    job = t.mutation("s:sched_call", {"method": "run_after", "params": [1000, "s:sched_work", {"x": 1}]})
    assert isinstance(job, Id) and job.table == "_scheduled_functions"
    out = t.mutation("s:read_jobs", {"id": job})
    assert out["query"] == [job]
    assert out["get"] == {"_id": job, "_creationTime": out["get"]["_creationTime"], "name": "s:sched_work",
                          "args": [{"x": 1}], "scheduledTime": T0 + 1000, "state": {"kind": "pending"}}
    running = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "slowm:slow"]})
    t.advance(0)
    assert t.mutation("s:read_jobs", {"id": running})["get"]["state"] == {"kind": "inProgress"}
    canceled = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:sched_work"]})
    t.mutation("s:sched_call", {"method": "cancel", "params": [canceled]})
    assert t.mutation("s:read_jobs", {"id": canceled})["get"]["state"] == {"kind": "canceled"}


# "From a mutation, scheduling is part of the transaction: if the mutation fails, nothing it scheduled
# exists. From an action, scheduling happens at once and survives the action failing."
def test_scheduling_from_mutations_is_transactional_and_from_actions_is_not():
    @mutation
    def schedule_then_fail(ctx, args):
        ctx.scheduler.run_after(0, internal.s.sched_work, {})
        raise ConvexError("no")

    t = ConvexEmulator(modules={"s": {"sched_work": sched_work, "sched_from_action": sched_from_action,
                                      "schedule_then_fail": schedule_then_fail}}, start_time=START)
    with pytest.raises(ConvexError):
        t.mutation("s:schedule_then_fail")
    assert t.scheduled_functions() == []
    with pytest.raises(ConvexError):
        t.action("s:sched_from_action", {"fail": True})
    assert [j["state"] for j in t.scheduled_functions()] == [{"kind": "pending"}]
    t.advance(0)
    assert [j["state"] for j in t.scheduled_functions()] == [{"kind": "success"}]


# "Limits per function execution: at most 1000 functions scheduled ("Too many functions scheduled by this
# mutation (limit: 1000)"), and at most 8 MiB of their arguments in total ("Too large total size of the
# arguments of scheduled functions from this mutation (limit: 8388608 bytes)"). Going over is an error in
# the scheduling function, so a mutation's writes roll back with it. ... the emulator's limits are
# settings with Convex's documented values as defaults (ours)."
def test_scheduling_limits_in_convexs_words():
    from emulator import Limits

    @mutation
    def many(ctx, args):
        ctx.db.insert("t", {})
        for _ in range(args["n"]):
            ctx.scheduler.run_after(0, internal.s.sched_work, {"blob": "x" * args.get("size", 0)})

    t = ConvexEmulator(modules={"s": {"sched_work": sched_work, "many": many}}, start_time=START)
    assert Limits().max_functions_scheduled == 1000 and Limits().max_scheduled_args_bytes == 8388608
    with pytest.raises(ConvexPyError) as caught:
        t.mutation("s:many", {"n": 1001})
    assert str(caught.value) == "Too many functions scheduled by this mutation (limit: 1000)"
    with pytest.raises(ConvexPyError) as caught:
        t.mutation("s:many", {"n": 2, "size": 5 * 1024 * 1024})
    assert str(caught.value) == ("Too large total size of the arguments of scheduled functions from this mutation "
                                 "(limit: 8388608 bytes)")
    assert t.run(lambda ctx: ctx.db.query("t").collect()) == [] and t.scheduled_functions() == []
    small = ConvexEmulator(modules={"s": {"sched_work": sched_work, "many": many}}, start_time=START,
                           limits=Limits(max_functions_scheduled=2))
    with pytest.raises(ConvexPyError, match=r"\(limit: 2\)"):
        small.mutation("s:many", {"n": 3})


# "Scheduled mutations run exactly once: a transient (system) failure, such as a write conflict, is retried
# until it commits; a failure of the function itself marks the job failed with the error text, and its
# writes roll back. A scheduled mutation is seen as pending, then success or failed, never inProgress; the
# state change commits in the same transaction as the mutation's writes."
@internal_mutation
def self_aware(ctx, args):
    me = ctx.db.system.query("_scheduled_functions").first()
    ctx.db.insert("seen", {"state": me["state"]["kind"]})
    if args.get("fail"):
        raise ValueError("function failed")


def test_scheduled_mutations_run_exactly_once():
    t = ConvexEmulator(modules={"s": {"self_aware": self_aware}}, start_time=START)
    t.run(lambda ctx: ctx.scheduler.run_after(0, internal.s.self_aware, {}))
    t.fail_next_commits(2)
    t.advance(0)
    assert t.run(lambda ctx: [d["state"] for d in ctx.db.query("seen").collect()]) == ["pending"]
    assert [j["state"] for j in t.scheduled_functions()] == [{"kind": "success"}]
    t2 = ConvexEmulator(modules={"s": {"self_aware": self_aware}}, start_time=START)
    t2.run(lambda ctx: ctx.scheduler.run_after(0, internal.s.self_aware, {"fail": True}))
    t2.advance(0)
    state = t2.scheduled_functions()[0]["state"]
    assert state["kind"] == "failed" and "function failed" in state["error"]
    assert t2.run(lambda ctx: ctx.db.query("seen").collect()) == []


# "Scheduled actions run at most once: the job is committed inProgress before the action starts, then
# success or failed; never retried. An action found inProgress after a crash becomes failed with
# "Transient error while executing action"."
@internal_action
def action_sees_itself(ctx, args):
    state = ctx.run_query(internal.s.job_states, {})
    ctx.run_mutation(internal.s.note, {"state": state[0]})
    if args.get("fail"):
        raise ValueError("action failed")


@internal_query
def job_states(ctx, args):
    return [j["state"]["kind"] for j in ctx.db.system.query("_scheduled_functions").collect()]


@internal_mutation
def note(ctx, args):
    ctx.db.insert("notes", args)


def test_scheduled_actions_run_at_most_once():
    modules = {"s": {"action_sees_itself": action_sees_itself, "job_states": job_states, "note": note}}
    t = ConvexEmulator(modules=modules, start_time=START)
    t.run(lambda ctx: ctx.scheduler.run_after(0, internal.s.action_sees_itself, {}))
    t.run(lambda ctx: ctx.scheduler.run_after(0, internal.s.action_sees_itself, {"fail": True}))
    t.run(lambda ctx: ctx.scheduler.run_after(10, internal.s.action_sees_itself, {}))
    t.advance(0)
    t.interrupt_next_actions(1)
    t.advance(10)
    assert [d["state"] for d in t.run(lambda ctx: ctx.db.query("notes").collect())] == ["inProgress", "success"]
    states = [j["state"] for j in t.scheduled_functions()]
    assert states[0] == {"kind": "success"}
    assert states[1]["kind"] == "failed" and "action failed" in states[1]["error"]
    assert states[2] == {"kind": "failed", "error": "Transient error while executing action"}
    t.advance(days=1)
    assert len(t.run(lambda ctx: ctx.db.query("notes").collect())) == 2  # never retried


# "Auth does not propagate: a scheduled function sees no user identity."
def test_auth_does_not_propagate_to_scheduled_functions():
    t = sched_emu()
    t.with_identity({"subject": "u"}).mutation("s:sched_call", {"method": "run_after",
                                                                "params": [0, "s:sched_work"]})
    t.with_identity({"subject": "u"}).action("s:sched_from_action", {})
    t.advance(0)
    assert [d["identity"] for d in t.run(lambda ctx: ctx.db.query("work").collect())] == [None, None]


# "Completed jobs (success, failed, canceled) stay readable for 7 days after completion, then are removed
# (once completedTime + 7 days <= now, as Convex's backend collects them).
# finish_all_scheduled_functions() also runs the removals due at the instant it stops."
def test_completed_jobs_are_kept_seven_days():
    t = sched_emu()
    ok = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:sched_work"]})
    canceled = t.mutation("s:sched_call", {"method": "run_after", "params": [HOUR, "s:sched_work"]})
    t.mutation("s:sched_call", {"method": "cancel", "params": [canceled]})
    t.advance(0)
    t.advance(7 * DAY - 1)
    assert [j["_id"] for j in t.scheduled_functions()] == [ok, canceled]
    t.advance(1)
    assert t.scheduled_functions() == []
    t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:sched_work"]})
    t.mutation("s:sched_call", {"method": "run_after", "params": [7 * DAY, "s:sched_work"]})
    t.finish_all_scheduled_functions()
    assert t.now == T0 + 14 * DAY
    assert [j["scheduledTime"] for j in t.scheduled_functions()] == [T0 + 14 * DAY]


# "cancel(id): a pending job becomes canceled and never runs. An action already running keeps running, but
# whatever it schedules afterwards is created already canceled. Canceling an action that has completed
# raises, as Convex's documentation says; canceling a mutation that has committed changes nothing (its
# state stays). ... An id from another table: "Invalid scheduled function ID. The ID must be an ID on the
# '_scheduled_functions' table.""
@internal_action
async def long_action(ctx, args):
    await asyncio.sleep(10)
    await ctx.scheduler.run_after(0, internal.s.sched_work, {"after": "cancel"})


def test_cancel_semantics():
    modules = {"s": {"sched_work": sched_work, "sched_action": sched_action, "sched_call": sched_call,
                     "long_action": long_action}}
    t = ConvexEmulator(modules=modules, start_time=START)
    pending = t.mutation("s:sched_call", {"method": "run_after", "params": [1000, "s:sched_work"]})
    t.mutation("s:sched_call", {"method": "cancel", "params": [pending]})
    t.advance(seconds=2)
    assert t.run(lambda ctx: ctx.db.system.get(pending))["state"] == {"kind": "canceled"}
    assert t.run(lambda ctx: ctx.db.system.get(pending))["completedTime"] == T0
    assert t.run(lambda ctx: ctx.db.query("work").collect()) == []

    running = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:long_action"]})
    t.advance(0)
    t.mutation("s:sched_call", {"method": "cancel", "params": [running]})
    t.finish_in_progress_scheduled_functions()
    child = t.scheduled_functions()[-1]
    assert child["args"] == [{"after": "cancel"}] and child["state"] == {"kind": "canceled"}
    assert t.run(lambda ctx: ctx.db.system.get(running))["state"] == {"kind": "canceled"}

    done_action = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:sched_action"]})
    done_mutation = t.mutation("s:sched_call", {"method": "run_after", "params": [0, "s:sched_work"]})
    t.advance(0)
    with pytest.raises(ConvexPyError):
        t.mutation("s:sched_call", {"method": "cancel", "params": [done_action]})
    t.mutation("s:sched_call", {"method": "cancel", "params": [done_mutation]})
    assert t.run(lambda ctx: ctx.db.system.get(done_mutation))["state"] == {"kind": "success"}

    other = t.run(lambda ctx: ctx.db.insert("t", {}))
    assert sched_error(t, "cancel", other) == ("Invalid scheduled function ID. The ID must be an ID on the "
                                               "'_scheduled_functions' table.")


# =====================================================================================
# SEMANTICS.md: cron jobs (runs)
# =====================================================================================

# "At most one run of a job at a time; a run due while the previous one is still going is skipped, not
# queued." "Time travel is not downtime: advance passes through every due time, so every run happens."
@internal_action
async def slow_cron(ctx, args):
    await asyncio.sleep(90)


@internal_mutation
def quick_cron(ctx, args):
    pass


def test_overlapping_cron_runs_are_skipped():
    from convex_py import cron_jobs

    crons = cron_jobs()
    crons.interval("slow", {"minutes": 1}, internal.c.slow_cron)
    crons.interval("quick", {"minutes": 1}, internal.c.quick_cron)
    t = ConvexEmulator(modules={"c": {"slow_cron": slow_cron, "quick_cron": quick_cron}, "crons": {"crons": crons}},
                       start_time=START)
    t.advance(minutes=6)
    assert [r["time"] for r in t.cron_runs("quick")] == [T0 + i * MINUTE for i in range(7)]
    # (a run is logged when it ends: the one started at 6 minutes is still going)
    started = [r["time"] for r in t.cron_runs("slow") if r["outcome"] != "skipped"]
    assert started == [T0, T0 + 2 * MINUTE, T0 + 4 * MINUTE]
    skipped = [r["time"] for r in t.cron_runs("slow") if r["outcome"] == "skipped"]
    assert skipped == [T0 + MINUTE, T0 + 3 * MINUTE, T0 + 5 * MINUTE]


# Runtime crons: "(optional seconds field and IANA time zone ...)" and "a run still going when the next is
# due makes that next one skip."
def test_runtime_cron_seconds_field_and_overlap():
    from convex_py.crons import Crons

    crons = Crons()

    @mutation
    def start(ctx, args):
        crons.register(ctx, {"kind": "cron", "cronspec": "*/20 * * * * *"}, internal.c.quick_cron, {}, name="secs")
        crons.register(ctx, {"kind": "interval", "ms": 60_000}, internal.c.slow_cron, {}, name="slow")

    t = ConvexEmulator(modules={"c": {"slow_cron": slow_cron, "quick_cron": quick_cron, "start": start}},
                       start_time=START)
    t.mutation("c:start")
    t.advance(minutes=1)
    assert [r["time"] for r in t.cron_runs("secs")] == [T0 + 20_000, T0 + 40_000, T0 + 60_000]
    t.advance(minutes=4)
    started = [r["time"] for r in t.cron_runs("slow") if r["outcome"] != "skipped"]
    assert started == [T0 + MINUTE, T0 + 3 * MINUTE]  # the one started at 5 minutes is still going
    assert [r["time"] for r in t.cron_runs("slow") if r["outcome"] == "skipped"] == [T0 + 2 * MINUTE, T0 + 4 * MINUTE]


# =====================================================================================
# SEMANTICS.md: porting habits Convex allows
# =====================================================================================

# "Where Convex takes a count (take(n), paginate({"numItems": n}), a limit), a whole-number float is
# accepted. Filter arithmetic and comparisons mix an int literal with a float field as numbers
# (q.add(q.field("score"), -2), q.eq(q.field("score"), 14) match a stored 14.0)."
def test_counts_as_floats_and_mixed_number_filters():
    t = emu()
    t.run(lambda ctx: [ctx.db.insert("s", {"score": float(x)}) for x in (12, 14, 16)])
    assert len(t.query(lambda ctx: ctx.db.query("s").take(2.0))) == 2
    assert len(t.query(lambda ctx: ctx.db.query("s").paginate({"numItems": 2.0, "cursor": None})["page"])) == 2
    assert [d["score"] for d in t.query(lambda ctx: ctx.db.query("s").filter(
        lambda q: q.eq(q.field("score"), 14)).collect())] == [14.0]
    assert [d["score"] for d in t.query(lambda ctx: ctx.db.query("s").filter(
        lambda q: q.eq(q.add(q.field("score"), -2), 14)).collect())] == [16.0]


# "Calling a registered function object directly from another function runs its handler (Convex warns,
# "dontCallDirectly", and runs it) (ours: a warning through warnings.warn). A module's functions are the
# ones it defines: a function imported from another module is not registered again."
def test_direct_calls_warn_and_run_and_imports_are_not_registered_twice(tmp_path):
    app = write_app(tmp_path / "app", {
        "helpers.py": """
            from convex_py import mutation
            @mutation
            def add(ctx, args):
                return ctx.db.insert("t", {"n": args["n"]})
        """,
        "main.py": """
            from convex_py import mutation
            from .helpers import add
            @mutation
            def caller(ctx, args):
                return add(ctx, {"n": 5})
        """,
    })
    t = ConvexEmulator(app, start_time=START)
    with pytest.warns(Warning):
        doc_id = t.mutation("main:caller")
    assert t.run(lambda ctx: ctx.db.get(doc_id))["n"] == 5
    assert t.mutation("helpers:add", {"n": 1}).table == "t"
    with pytest.raises(ConvexPyError):
        t.mutation("main:add", {"n": 1})


# "asyncio.gather over ctx calls in an async query or mutation works, with results as if the calls ran in
# order (JavaScript's Promise.all habit)."
@mutation
async def gathered(ctx, args):
    ids = await asyncio.gather(*(ctx.db.insert("g", {"i": i}) for i in range(3)))
    docs = await asyncio.gather(*(ctx.db.get(i) for i in ids))
    return [d["i"] for d in docs]


def test_asyncio_gather_in_a_mutation():
    t = emu(g={"gathered": gathered})
    assert t.mutation("g:gathered") == [0, 1, 2]
    assert t.run(lambda ctx: [d["i"] for d in ctx.db.query("g").collect()]) == [0, 1, 2]


# "Index ranges accept their lower and upper bounds in either order."
def test_index_bounds_in_either_order():
    from convex_py import define_schema, define_table

    schema = define_schema({"n": define_table({"x": v.int64()}).index("by_x", ["x"])})
    t = ConvexEmulator(modules={}, schema=schema, start_time=START)
    t.run(lambda ctx: [ctx.db.insert("n", {"x": x}) for x in range(10)])
    def xs(bounds):
        return t.query(lambda ctx: [d["x"] for d in ctx.db.query("n").with_index("by_x", bounds).collect()])

    a = xs(lambda q: q.gte("x", 3).lt("x", 6))
    b = xs(lambda q: q.lt("x", 6).gte("x", 3))
    assert a == b == [3, 4, 5]


# "A nested run_mutation that raises and is caught rolls back its writes, and they do not count toward the
# per-execution write limits."
@internal_mutation
def write_then_fail(ctx, args):
    for _ in range(args["n"]):
        ctx.db.insert("w", {})
    raise ConvexError("inner")


@mutation
def outer(ctx, args):
    try:
        ctx.run_mutation(internal.nest.write_then_fail, {"n": 10_000})
    except ConvexError:
        pass
    for _ in range(10_000):
        ctx.db.insert("w", {"kept": True})
    return len(ctx.db.query("w").collect())


def test_a_caught_nested_mutation_rolls_back():
    t = emu(nest={"write_then_fail": write_then_fail, "outer": outer})
    assert t.mutation("nest:outer") == 10_000


# "One .paginate() per function execution: a second is an error, as Convex. paginate options endCursor,
# maximumRowsRead, maximumBytesRead; the result may carry pageStatus ("SplitRecommended"/"SplitRequired")
# and splitCursor. pagination_opts_validator is exported."
def test_pagination_rules():
    from convex_py import pagination_opts_validator

    t = emu()
    t.run(lambda ctx: [ctx.db.insert("p", {"i": i}) for i in range(10)])
    with pytest.raises(ConvexPyError):
        t.query(lambda ctx: [ctx.db.query("p").paginate({"numItems": 2, "cursor": None}) for _ in range(2)])
    first = t.query(lambda ctx: ctx.db.query("p").paginate({"numItems": 3, "cursor": None}))
    second = t.query(lambda ctx: ctx.db.query("p").paginate({"numItems": 3, "cursor": first["continueCursor"]}))
    again = t.query(lambda ctx: ctx.db.query("p").paginate(
        {"numItems": 1, "cursor": first["continueCursor"], "endCursor": second["continueCursor"]}))
    assert [d["i"] for d in again["page"]] == [3, 4, 5]
    capped = t.query(lambda ctx: ctx.db.query("p").paginate({"numItems": 8, "cursor": None, "maximumRowsRead": 2}))
    assert len(capped["page"]) == 2 and capped["isDone"] is False
    pagination_opts_validator.validate({"numItems": 5, "cursor": None})


# "Schema: table and field names follow Convex's identifier rule ... .index(name, {"fields": [...],
# "staged": True}) is accepted; a staged index cannot be queried yet. Writing to a table that the schema
# does not declare is allowed at run time ... Arguments may nest 64 levels; documents 16."
def test_schema_identifiers_staged_indexes_and_undeclared_tables():
    from convex_py import define_schema, define_table

    for bad in (lambda: define_schema({"1t": define_table({"a": v.string()})}),
                lambda: define_schema({"t": define_table({"_a": v.string()})}),
                lambda: define_schema({"t-x": define_table({"a": v.string()})})):
        with pytest.raises(ConvexPyError):
            bad()
    schema = define_schema({"t": define_table({"a": v.string()}).index("by_a", {"fields": ["a"], "staged": True})})
    t = ConvexEmulator(modules={}, schema=schema, start_time=START)
    t.run(lambda ctx: ctx.db.insert("t", {"a": "x"}))
    with pytest.raises(ConvexPyError):
        t.query(lambda ctx: ctx.db.query("t").with_index("by_a").collect())
    assert t.run(lambda ctx: ctx.db.insert("undeclared", {"b": 1})).table == "undeclared"

    @mutation
    def deep(ctx, args):
        return "ok"

    def nested(depth):
        value = 1
        for _ in range(depth):
            value = {"a": value}
        return value

    t2 = emu(d={"deep": deep})
    assert t2.mutation("d:deep", {"x": nested(62)}) == "ok"
    with pytest.raises(ConvexPyError):
        t2.mutation("d:deep", {"x": nested(70)})


# "ctx.run_query works inside queries too (its own read-only sub-query). ctx.meta.get_function_metadata()
# -> {"name", "componentPath", "type", "visibility"}. Nested calls accept transaction_limits= to cap a
# sub-call's reads and writes, as Convex's transactionLimits option."
@query
def meta_outer(ctx, args):
    return {"inner": ctx.run_query(internal.meta.meta_inner, {}), "me": ctx.meta.get_function_metadata()}


@internal_query
def meta_inner(ctx, args):
    return ctx.meta.get_function_metadata()


@mutation
def capped_writes(ctx, args):
    ctx.run_mutation(internal.meta.writer, {"n": 3}, transaction_limits={"documentsWritten": 2})


@internal_mutation
def writer(ctx, args):
    for _ in range(args["n"]):
        ctx.db.insert("w", {})


def test_run_query_in_queries_meta_and_transaction_limits():
    t = emu(meta={"meta_outer": meta_outer, "meta_inner": meta_inner, "capped_writes": capped_writes,
                  "writer": writer})
    out = t.query("meta:meta_outer")
    assert out["me"] == {"name": "meta:meta_outer", "componentPath": "", "type": "query", "visibility": "public"}
    assert out["inner"] == {"name": "meta:meta_inner", "componentPath": "", "type": "query", "visibility": "internal"}
    with pytest.raises(ConvexPyError):
        t.mutation("meta:capped_writes")


# The signatures as DESIGN.md writes them, called with their parameter names: "scheduler:
# run_after(delay_ms, ref, args=None), run_at(ts, ref, args=None), cancel(id)", "store(data: bytes,
# content_type=None)", "get(id)", "get_url(id)", "delete(id)", "advance_to(ts or datetime)",
# "finish_all_scheduled_functions(max_iterations=...)", "scheduled_functions(state=None)",
# "cron_runs(name=None)", "t.fetch(path, *, method="GET", headers=None, body=None)",
# "Response(body=None, *, status=200, headers=None)", "t.register_component("counter", folder)",
# "t.set_env(name, value)", "create_function_handle(ref)".
@mutation
def by_keyword(ctx, args):
    a = ctx.scheduler.run_after(delay_ms=10, ref=internal.kw.noop_kw, args={"a": 1})
    b = ctx.scheduler.run_at(ts=T0 + 20, ref=internal.kw.noop_kw, args=None)
    ctx.scheduler.cancel(id=b)
    return [a, b]


@internal_mutation
def noop_kw(ctx, args):
    pass


@action
def storage_by_keyword(ctx, args):
    sid = ctx.storage.store(data=b"x", content_type="text/plain")
    out = [ctx.storage.get(id=sid), ctx.storage.get_url(id=sid) is not None]
    ctx.storage.delete(id=sid)
    return out + [ctx.storage.get(id=sid)]


def test_design_signatures_by_keyword():
    import inspect

    from convex_py import create_function_handle

    t = emu(kw={"by_keyword": by_keyword, "noop_kw": noop_kw, "storage_by_keyword": storage_by_keyword})
    a, b = t.mutation("kw:by_keyword")
    assert t.action("kw:storage_by_keyword") == [b"x", True, None]
    t.advance_to(ts=T0 + 5)
    t.advance(ms=4)
    assert t.finish_all_scheduled_functions(max_iterations=5) == 1
    assert [j["_id"] for j in t.scheduled_functions(state="success")] == [a]
    assert t.cron_runs(name="none") == []
    assert t.fetch(path="/x", method="GET", headers=None, body=None).status_code == 404
    assert Response(body="b", status=201, headers={"a": "b"}).status == 201
    t.set_env(name="K", value="v")
    assert t.env["K"] == "v"
    assert list(inspect.signature(ConvexEmulator.register_component).parameters) == ["self", "name", "folder"]
    assert isinstance(create_function_handle(ref="kw:noop_kw"), str)


# "Calls: query, mutation, action": a function called as another kind is a clear error naming both kinds.
def test_calling_a_function_as_another_kind():
    from convex_py.errors import FunctionKindError

    @mutation
    def m(ctx, args):
        return 1

    t = emu(k={"m": m})
    with pytest.raises(FunctionKindError) as caught:
        t.action("k:m")
    assert str(caught.value) == ("`k:m` is a mutation, not an action: call it as a mutation "
                                 "(e.g. run_mutation / t.mutation).")
    with pytest.raises(FunctionKindError, match="`k:m` is a mutation, not a query"):
        t.query("k:m")


# SEMANTICS: "Internal functions are callable from other functions, the scheduler, crons, and the test
# harness, never from a client over HTTP." DESIGN: "The dev server serves the same routes on the site
# port".
@internal_mutation
def hidden(ctx, args):
    return "hidden"


@query
def visible(ctx, args):
    return "visible"


def test_the_dev_server_hides_internal_functions_and_serves_http_actions():
    import httpx

    from emulator.server import DevServer

    http = http_router()
    http.route(path="/hi", method="GET", handler=_any_http_action)
    dev = DevServer(ConvexEmulator(modules={"f": {"hidden": hidden, "visible": visible}, "http": {"http": http}}),
                    port=0, site_port=0).start()
    try:
        ok = httpx.post(f"{dev.url}/api/query", json={"path": "f:visible", "args": {}})
        assert ok.json()["value"] == "visible"
        refused = httpx.post(f"{dev.url}/api/mutation", json={"path": "f:hidden", "args": {}})
        assert refused.status_code >= 400 and "Could not find public function for 'f:hidden'" in refused.text
        assert httpx.get(f"{dev.site_url}/hi").text == "any"
    finally:
        dev.stop()


# Runtime crons, "crons.get(ctx, id=... or name=...)": the @convex-dev/crons form, a dict as second
# argument (`crons.get(ctx, {"name": "daily"})`), is accepted too, as Convex's component takes it.
def test_runtime_crons_accept_the_components_dict_form():
    from convex_py.crons import Crons

    crons = Crons()

    @internal_mutation
    def tick(ctx, args):
        pass

    @mutation
    def flow(ctx, args):
        job_id = crons.register(ctx, {"kind": "interval", "ms": 1000}, internal.m.tick, {}, "daily")
        out = [crons.get(ctx, {"name": "daily"})["id"] == job_id, crons.get(ctx, {"id": job_id})["name"]]
        crons.pause(ctx, {"name": "daily"})
        out.append(crons.get(ctx, name="daily")["paused"])
        crons.resume(ctx, {"id": job_id})
        crons.delete(ctx, {"name": "daily"})
        return out + [crons.get(ctx, {"name": "daily"})]

    t = emu(m={"tick": tick, "flow": flow})
    assert t.mutation("m:flow") == [True, "daily", True, None]
