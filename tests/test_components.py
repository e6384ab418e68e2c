"""Components and function handles: fixtures/counters installs the counter component twice.

Each test states the exact counts, times and job rows a Convex user relies on: separate
tables per instance, calls across the boundary (in parallel too), scheduling inside a
component, handles run and scheduled, and no identity inside a component.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from convex_py import (
    api,
    components,
    create_function_handle,
    define_app,
    define_component,
    internal,
    internal_mutation,
)
from convex_py.errors import ComponentError, FunctionKindError, FunctionNotFoundError, SchedulerError
from emulator import ConvexEmulator

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
APP = Path(__file__).resolve().parent.parent / "fixtures" / "counters"
COUNTER = APP / "convex" / "counter"


@pytest.fixture
def t() -> ConvexEmulator:
    return ConvexEmulator(APP, start_time=T0)


def count(t: ConvexEmulator, component: str = "counter", name: str = "beans") -> float:
    return t.query(getattr(components, component).public.count, {"name": name})


# --- loading --------------------------------------------------------------------------------------


def test_a_component_folder_inside_convex_is_not_part_of_the_apps_modules(t: ConvexEmulator) -> None:
    assert sorted(p for p in t.app.functions if not p.startswith("calls:")) == []
    with pytest.raises(FunctionNotFoundError):
        t.mutation("counter/public:add", {"name": "beans", "count": 1})


def test_direct_calls_from_a_test(t: ConvexEmulator) -> None:
    assert t.mutation(components.counter.public.add, {"name": "beans", "count": 3}) is None
    assert count(t) == 3.0
    assert t.action(components.counter.public.count_many, {"names": ["beans", "pennies"]}) == [3.0, 0.0]


def test_two_instances_of_one_component_hold_separate_tables(t: ConvexEmulator) -> None:
    t.mutation(components.counter.public.add, {"name": "beans", "count": 3})
    t.mutation(components.counter2.public.add, {"name": "beans", "count": 5})
    t.mutation(components.counter2.public.add, {"name": "beans", "count": 2})
    assert (count(t, "counter"), count(t, "counter2")) == (3.0, 7.0)
    t.mutation(components.counter2.public.add, {"name": "x", "count": 1})
    assert (count(t, "counter", "x"), count(t, "counter2", "x")) == (0.0, 1.0)


def test_a_component_and_the_app_cannot_read_each_others_tables(t: ConvexEmulator) -> None:
    t.mutation(internal.calls.note)  # the app's own `counters` and `notes`
    t.mutation(components.counter.public.add, {"name": "beans", "count": 4})
    assert t.query(components.counter.public.tables_seen) == {"counters": 1, "notes": 0}
    assert count(t) == 4.0
    app_rows = t.query(lambda ctx: [(d["name"], d["value"]) for d in ctx.db.query("counters").collect()])
    assert app_rows == [("beans", 100.0)]
    component_id = t.mutation(components.counter.public.schedule, {"name": "beans"})
    assert t.run(lambda ctx: ctx.db.system.get(component_id)) is None  # the app's _scheduled_functions has no such row


def test_an_action_calls_queries_mutations_and_actions_of_a_component(t: ConvexEmulator) -> None:
    assert t.action(internal.calls.direct_call) == 3.0
    assert count(t, name="pennies") == 250.0


def test_a_mutation_nests_component_calls_in_its_transaction(t: ConvexEmulator) -> None:
    assert t.mutation(internal.calls.mutation_with_nested_query) == 3.0
    assert t.mutation(internal.calls.count_in_mutation) == 3.0
    with pytest.raises(ValueError, match="after the component's write"):
        t.mutation(internal.calls.add_then_fail)
    assert count(t) == 3.0  # the component's +5 rolled back with the app's mutation


# --- parallel calls across components ---------------------------------------------------------------


def test_parallel_queries_and_mutations_on_two_components(t: ConvexEmulator) -> None:
    t.mutation(components.counter.public.add, {"name": "beans", "count": 3})
    t.mutation(components.counter2.public.add, {"name": "beans", "count": 5})
    assert t.mutation(internal.calls.parallel_component_counts) == {"count1": 3.0, "count2": 5.0}
    t.mutation(internal.calls.parallel_component_mutations)
    assert (count(t, "counter"), count(t, "counter2")) == (4.0, 6.0)


def test_parallel_actions_on_two_components(t: ConvexEmulator) -> None:
    assert t.action(internal.calls.action_on_counter1) == 10.0
    assert t.action(internal.calls.action_on_counter2) == 20.0
    assert t.action(internal.calls.parallel_sequential_component_actions) == {
        "count1a": 0.0, "count1b": 0.0, "count2a": 0.0, "count2b": 0.0,
    }


# --- scheduling inside a component ------------------------------------------------------------------


def test_a_component_schedules_into_its_own_scheduled_functions(t: ConvexEmulator) -> None:
    t.mutation(internal.calls.schedule)
    assert t.scheduled_functions() == []
    [job] = t.scheduled_functions(component="counter")
    assert (job["name"], job["args"], job["scheduledTime"], job["state"]) == (
        "public:add", [{"name": "beans", "count": 1}], T0, {"kind": "pending"}
    )
    assert t.query(components.counter.public.scheduled) == ["public:add"]
    assert t.scheduled_functions(component="counter2") == []
    assert t.finish_all_scheduled_functions() == 1
    assert count(t) == 1.0
    [job] = t.scheduled_functions(component="counter")
    assert (job["state"], job["completedTime"]) == ({"kind": "success"}, T0)
    [entry] = t.timeline()
    assert (entry["function"], entry["component"], entry["outcome"]) == ("public:add", "counter", "success")


def test_component_jobs_run_at_their_exact_times_in_time_order_with_the_apps(t: ConvexEmulator) -> None:
    t.mutation(components.counter.public.schedule_later, {"name": "beans", "delay": 5000})
    t.mutation(components.counter2.public.schedule_later, {"name": "beans", "delay": 3000})
    t.mutation(internal.calls.schedule_component_add, {"delay": 4000})  # the app schedules into counter2
    t.advance(2999)
    assert (count(t, "counter"), count(t, "counter2")) == (0.0, 0.0)
    t.advance(1)
    assert (count(t, "counter"), count(t, "counter2")) == (0.0, 1.0)
    t.advance(1000)
    assert (count(t, "counter"), count(t, "counter2")) == (0.0, 8.0)
    t.advance(1000)
    assert (count(t, "counter"), count(t, "counter2")) == (1.0, 8.0)
    assert [(e["time"] - T0, e["component"], e["function"]) for e in t.timeline()] == [
        (3000, "counter2", "public:add"), (4000, "counter2", "public:add"), (5000, "counter", "public:add"),
    ]
    [app_job] = t.scheduled_functions()  # the app's own row for the job it scheduled into counter2
    assert (app_job["name"], app_job["state"], app_job["completedTime"]) == ("public:add", {"kind": "success"}, T0 + 4000)


def test_scheduling_on_both_components_from_one_mutation(t: ConvexEmulator) -> None:
    t.mutation(internal.calls.schedule_on_both_components)
    assert len(t.scheduled_functions(component="counter")) == len(t.scheduled_functions(component="counter2")) == 1
    assert t.finish_all_scheduled_functions() == 2
    assert (count(t, "counter"), count(t, "counter2")) == (1.0, 1.0)


def test_a_component_cancels_its_own_jobs_and_the_app_cannot_cancel_them(t: ConvexEmulator) -> None:
    job_id = t.mutation(components.counter.public.schedule_later, {"name": "beans", "delay": 1000})
    t.mutation(internal.calls.cancel_job, {"id": job_id})  # not the app's job: nothing happens
    assert t.scheduled_functions(component="counter")[0]["state"] == {"kind": "pending"}
    t.mutation(components.counter.public.cancel, {"id": job_id})
    assert t.scheduled_functions(component="counter")[0]["state"] == {"kind": "canceled"}
    t.advance(2000)
    assert count(t) == 0.0


def test_scheduling_an_unknown_component_function_fails_at_scheduling_time(t: ConvexEmulator) -> None:
    @internal_mutation
    def bad(ctx, args):
        ctx.scheduler.run_after(0, components.counter.public.nope, {})

    t2 = ConvexEmulator(modules={"m": {"bad": bad}}, start_time=T0)
    t2.register_component("counter", COUNTER)
    with pytest.raises(SchedulerError, match="Attempted to schedule function at nonexistent path"):
        t2.mutation(internal.m.bad)
    assert t2.scheduled_functions() == []


# --- function handles -------------------------------------------------------------------------------


def test_a_function_handle_is_run_by_a_mutation(t: ConvexEmulator) -> None:
    handle = t.query(internal.calls.get_function_handle)
    assert handle == "function://counter;public:add"
    t.mutation(internal.calls.call_handle, {"handle": handle})
    assert count(t) == 3.0
    assert t.query(internal.calls.direct_call2) == 3.0  # a query reads a component in its snapshot


def test_a_function_handle_is_scheduled(t: ConvexEmulator) -> None:
    handle = t.query(internal.calls.get_function_handle)
    job_id = t.mutation(internal.calls.schedule_handle, {"handle": handle})
    [job] = t.scheduled_functions()  # the row is the scheduling app's; the function runs in counter
    assert (job["_id"], job["name"], job["scheduledTime"]) == (job_id, "public:add", T0 + 1000)
    t.advance(999)
    assert count(t) == 0.0
    t.advance(1)
    assert count(t) == 3.0
    assert t.scheduled_functions()[0]["state"] == {"kind": "success"}
    assert [(e["time"], e["component"]) for e in t.timeline()] == [(T0 + 1000, "counter")]


def test_a_handle_made_inside_a_component_names_that_instance(t: ConvexEmulator) -> None:
    assert t.query(components.counter.public.handle_to_add) == "function://counter;public:add"
    handle = t.query(components.counter2.public.handle_to_add)
    assert handle == "function://counter2;public:add"
    t.action(lambda ctx: ctx.run_mutation(handle, {"name": "beans", "count": 2}))
    assert (count(t, "counter"), count(t, "counter2")) == (0.0, 2.0)


def test_a_component_calls_back_into_the_app_through_a_handle(t: ConvexEmulator) -> None:
    handle = create_function_handle(internal.calls.note)
    assert handle == "function://;calls:note"
    t.mutation(components.counter.public.call_handle, {"handle": handle, "args": {}})
    assert t.query(lambda ctx: len(ctx.db.query("notes").collect())) == 1
    assert t.query(components.counter.public.tables_seen) == {"counters": 0, "notes": 0}


def test_create_function_handle_outside_functions_and_awaited() -> None:
    assert create_function_handle(components.counter.public.add) == "function://counter;public:add"
    assert create_function_handle(api.calls.note) == "function://;calls:note"
    assert create_function_handle("calls:note") == "function://;calls:note"

    async def awaited() -> str:
        return await create_function_handle(internal.calls.note)

    assert asyncio.run(awaited()) == "function://;calls:note"


def test_bad_handles_and_references_say_what_is_wrong(t: ConvexEmulator) -> None:
    with pytest.raises(ComponentError, match='Component "nope" is not installed in this app'):
        t.query(components.nope.public.count, {"name": "x"})
    with pytest.raises(FunctionNotFoundError, match="Could not find public function for 'public:reset' in component 'counter'"):
        t.mutation(components.counter.public.reset)
    with pytest.raises(FunctionKindError, match="`public:count` is a query, not a mutation"):
        t.mutation(components.counter.public.count, {"name": "x"})
    with pytest.raises(ComponentError, match="names component 'counter3', which is not installed"):
        t.mutation("function://counter3;public:add", {"name": "x", "count": 1})
    with pytest.raises(ComponentError, match="is not a function handle"):
        t.mutation("function://counter", {})
    handle = "function://counter;public:reset"  # a handle reaches internal functions too
    t.mutation(components.counter.public.add, {"name": "beans", "count": 1})
    t.action(lambda ctx: ctx.run_mutation(handle))
    assert count(t) == 0.0


def test_a_component_function_knows_its_component_path(t: ConvexEmulator) -> None:
    assert t.query(components.counter2.public.metadata) == {
        "name": "public:metadata", "componentPath": "counter2", "type": "query", "visibility": "public",
    }
    assert t.action(components.counter.public.action_metadata) == {
        "name": "public:action_metadata", "componentPath": "counter", "type": "action", "visibility": "public",
    }
    assert t.action(lambda ctx: ctx.run_query(components.counter.public.metadata))["componentPath"] == "counter"


def test_a_sync_call_from_a_running_event_loop_stays_inside_the_component(t: ConvexEmulator) -> None:
    # From an async test, a sync `t.action` runs the action in a helper thread: it must still run
    # inside counter2, before and after its first await.
    expected = ["function://counter2;public:add", "function://counter2;public:add", "counter2"]
    assert t.action(components.counter2.public.handles_from_action) == expected

    async def from_a_loop() -> list:
        return t.action(components.counter2.public.handles_from_action)

    assert asyncio.run(from_a_loop()) == expected


# --- identity ---------------------------------------------------------------------------------------


def test_identity_does_not_pass_into_a_component(t: ConvexEmulator) -> None:
    sarah = t.with_identity({"name": "Sarah"})
    assert sarah.mutation(internal.calls.mutation_component_auth) is None
    assert sarah.action(internal.calls.action_component_auth) is None
    assert sarah.action(internal.calls.action_calling_component_action) is None
    assert sarah.query(components.counter.public.get_identity_name) == "Sarah"  # called directly by the test
    assert sarah.action(components.counter.public.get_identity_name_action) == "Sarah"


# --- registering by hand ------------------------------------------------------------------------------


def test_register_component_by_hand_with_modules_app() -> None:
    @internal_mutation
    def total(ctx, args):
        return ctx.run_query(components.beans.public.count, {"name": "beans"})

    t = ConvexEmulator(modules={"m": {"total": total}}, start_time=T0)
    t.register_component("beans", COUNTER)
    t.register_component("more_beans", str(COUNTER))
    t.mutation(components.beans.public.add, {"name": "beans", "count": 2})
    assert (count(t, "beans"), count(t, "more_beans"), t.mutation(internal.m.total)) == (2.0, 0.0, 2.0)
    with pytest.raises(ComponentError, match='Component name "beans" is already used'):
        t.register_component("beans", COUNTER)
    with pytest.raises(ComponentError, match="must be an identifier"):
        t.register_component("two words", COUNTER)
    with pytest.raises(ComponentError, match="does not exist"):
        t.register_component("missing", APP / "nowhere")


def test_an_app_without_components_says_so() -> None:
    t = ConvexEmulator(modules={}, start_time=T0)
    with pytest.raises(ComponentError, match="no components"):
        t.action(lambda ctx: ctx.run_query(components.counter.public.count, {"name": "x"}))


def test_define_app_use_rules() -> None:
    counter = define_component("counter")
    app = define_app()
    app.use(counter)
    app.use(counter, {"name": "counter2"})
    assert [name for name, _ in app.uses] == ["counter", "counter2"]
    with pytest.raises(ComponentError, match='Component name "counter" is already used'):
        app.use(counter)
    with pytest.raises(ComponentError, match="takes a component definition"):
        app.use("counter")  # type: ignore[arg-type]
    with pytest.raises(ComponentError, match="must be an identifier"):
        define_component("my-counter")
    assert counter.folder == Path(__file__).resolve().parent
    with pytest.raises(ComponentError, match='options are'):
        app.use(counter, {"nam": "x"})
