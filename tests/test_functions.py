"""The authoring API and running functions: decorators, references, argument and return
validation, sync and async handlers, ctx members per kind, identity, camelCase aliases."""

from __future__ import annotations

import asyncio

import pydantic
import pytest

from convex_py import (
    ConvexError,
    Id,
    action,
    api,
    define_schema,
    define_table,
    internal,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
    v,
)
from convex_py.errors import (
    ArgumentValidationError,
    FunctionKindError,
    FunctionNotFoundError,
    ReadOnlyError,
    ReturnsValidationError,
    UnsupportedInFunctionError,
)
from emulator import ConvexEmulator

START = "2030-01-01T00:00:00Z"
START_MS = 1893456000000.0


# --- An app built inline -------------------------------------------------------------------------


@mutation(args={"body": v.string(), "author": v.string()}, returns=v.id("messages"))
def send(ctx, args):
    return ctx.db.insert("messages", {"body": args["body"], "author": args["author"]})


@mutation
def send_bare(ctx, args):
    return ctx.db.insert("messages", {"body": args["body"], "author": "bare"})


@query
def list_all(ctx, args):
    return [m["body"] for m in ctx.db.query("messages").collect()]


@query(args={})
def count(ctx, args):
    return len(ctx.db.query("messages").collect())


@internal_query(args={"author": v.string()}, returns=v.array(v.string()))
def by_author(ctx, args):
    return [m["body"] for m in ctx.db.query("messages").filter(lambda q: q.eq(q.field("author"), args["author"])).collect()]


@internal_mutation(args={"id": v.id("messages")})
def remove(ctx, args):
    ctx.db.delete(args["id"])
    return None


@action(args={"body": v.string()})
def send_via_action(ctx, args):
    msg_id = ctx.run_mutation(api.messages.send, {"body": args["body"], "author": "action"})
    return {"id": msg_id, "count": ctx.run_query(api.messages.count, {})}


@internal_action
def internal_act(ctx, args):
    return "internal action ran"


@mutation(args={"body": v.string()})
async def send_async(ctx, args):
    msg_id = await ctx.db.insert("messages", {"body": args["body"], "author": "async"})
    doc = await ctx.db.get(msg_id)
    everything = await ctx.db.query("messages").collect()
    counted = await ctx.run_query(api.messages.count, {})
    return {"body": doc["body"], "seen": len(everything), "counted": counted}


@query
async def list_async(ctx, args):
    out = []
    async for doc in ctx.db.query("messages"):
        out.append(doc["body"])
    first = await ctx.db.query("messages").first()
    return {"bodies": out, "first": None if first is None else first["body"]}


@action
async def action_async(ctx, args):
    await ctx.run_mutation(api.messages.send, {"body": "from async action", "author": "a"})
    return await ctx.run_query(api.messages.list_all, {})


@query(returns=v.string())
def returns_wrong(ctx, args):
    return 5


@query(returns=v.object({"n": v.int64()}))
def returns_extra(ctx, args):
    return {"n": 1, "extra": True}


@mutation(returns=v.null())
def write_then_bad_return(ctx, args):
    ctx.db.insert("messages", {"body": "should vanish", "author": "x"})
    return "not null"


@query(returns=v.number())
def returns_int_as_number(ctx, args):
    return 3


class NewMessage(pydantic.BaseModel):
    body: str
    author: str = "pydantic"


@mutation(args=NewMessage)
def send_pydantic(ctx, args):
    assert isinstance(args, dict)
    return ctx.db.insert("messages", {"body": args["body"], "author": args["author"]})


@mutation(args={"n": v.int64()})
def fail_with_convex_error(ctx, args):
    ctx.db.insert("messages", {"body": "before error", "author": "x"})
    raise ConvexError({"code": "NOPE", "n": args["n"]})


@query
def whoami(ctx, args):
    return ctx.auth.get_user_identity()


@query
def whoami_camel(ctx, args):
    return ctx.auth.getUserIdentity()


@mutation
def whoami_nested(ctx, args):
    return {
        "query": ctx.run_query(api.messages.whoami, {}),
        "mutation": ctx.run_mutation(internal.messages.whoami_mutation, {}),
    }


@internal_mutation
def whoami_mutation(ctx, args):
    return ctx.auth.get_user_identity()


@action
def whoami_action(ctx, args):
    return {
        "own": ctx.auth.get_user_identity(),
        "query": ctx.run_query(api.messages.whoami, {}),
        "mutation": ctx.run_mutation(api.messages.whoami_nested, {}),
    }


@action
async def whoami_action_async(ctx, args):
    return {
        "own": await ctx.auth.get_user_identity(),
        "query": await ctx.run_query(api.messages.whoami, {}),
    }


def nested_leaf(ctx, args):
    return "leaf " + args.get("x", "")


SCHEMA = define_schema(
    {"messages": define_table({"body": v.string(), "author": v.string()}).index("by_author", ["author"])}
)

MESSAGES = {
    name: fn
    for name, fn in dict(globals()).items()
    if name
    in (
        "send", "send_bare", "list_all", "count", "by_author", "remove", "send_via_action", "internal_act",
        "send_async", "list_async", "action_async", "returns_wrong", "returns_extra", "write_then_bad_return",
        "returns_int_as_number", "send_pydantic", "fail_with_convex_error", "whoami", "whoami_camel",
        "whoami_nested", "whoami_mutation", "whoami_action", "whoami_action_async",
    )
}


@pytest.fixture
def t() -> ConvexEmulator:
    return ConvexEmulator(
        modules={"messages": MESSAGES, "admin/tools": {"leaf": query(nested_leaf)}},
        schema=SCHEMA,
        start_time=START,
    )


def bodies(t: ConvexEmulator) -> list[str]:
    return t.query(lambda ctx: [m["body"] for m in ctx.db.query("messages").collect()])


# --- Decorators --------------------------------------------------------------------------------------


def test_decorators_record_kind_visibility_and_validators() -> None:
    assert (send.kind, send.visibility, send.is_internal) == ("mutation", "public", False)
    assert (send_bare.kind, send_bare.args_validator, send_bare.returns_validator) == ("mutation", None, None)
    assert (by_author.kind, by_author.is_internal) == ("query", True)
    assert (remove.kind, remove.is_internal) == ("mutation", True)
    assert (internal_act.kind, internal_act.is_internal) == ("action", True)
    assert (send_via_action.kind, send_via_action.is_internal) == ("action", False)
    assert send.args_validator is not None and send.returns_validator is not None
    assert send_async.is_async and not send.is_async


def test_bare_decorator_accepts_any_object(t: ConvexEmulator) -> None:
    msg_id = t.mutation(api.messages.send_bare, {"body": "hi", "whatever": [1, 2]})
    assert isinstance(msg_id, Id) and msg_id.table == "messages"
    assert bodies(t) == ["hi"]


def test_decorator_with_args_and_returns(t: ConvexEmulator) -> None:
    msg_id = t.mutation(api.messages.send, {"body": "hello", "author": "ada"})
    assert msg_id.table == "messages"
    assert t.query(internal.messages.by_author, {"author": "ada"}) == ["hello"]


def test_empty_args_validator_rejects_any_field(t: ConvexEmulator) -> None:
    assert t.query(api.messages.count, {}) == 0
    assert t.query(api.messages.count) == 0
    with pytest.raises(ArgumentValidationError, match="messages:count"):
        t.query(api.messages.count, {"x": 1})


def test_sync_handler_async_handler_and_async_query_iteration(t: ConvexEmulator) -> None:
    t.mutation(api.messages.send, {"body": "one", "author": "a"})
    assert t.mutation(api.messages.send_async, {"body": "two"}) == {"body": "two", "seen": 2, "counted": 2}
    assert t.query(api.messages.list_async) == {"bodies": ["one", "two"], "first": "one"}


def test_async_action_awaits_its_calls(t: ConvexEmulator) -> None:
    assert t.action(api.messages.action_async) == ["from async action"]


@pytest.mark.parametrize("delay", [0, 0.01])
def test_async_query_awaiting_non_convex_work_is_refused(t: ConvexEmulator, delay: float) -> None:
    # Queries and mutations are deterministic: awaiting a timer is refused with a clear error,
    # whatever the delay.
    async def sleepy(ctx):
        await asyncio.sleep(delay)
        return 1

    with pytest.raises(UnsupportedInFunctionError):
        t.query(sleepy)


# --- References --------------------------------------------------------------------------------------


def test_every_reference_form_reaches_the_same_function(t: ConvexEmulator) -> None:
    t.mutation(api.messages.send, {"body": "a", "author": "x"})
    t.mutation(send, {"body": "b", "author": "x"})
    t.mutation("messages:send", {"body": "c", "author": "x"})
    assert t.query(internal.messages.by_author, {"author": "x"}) == ["a", "b", "c"]
    assert t.query(by_author, {"author": "x"}) == ["a", "b", "c"]
    assert t.query("messages:by_author", {"author": "x"}) == ["a", "b", "c"]


def test_nested_module_paths(t: ConvexEmulator) -> None:
    assert t.query(api.admin.tools.leaf, {"x": "1"}) == "leaf 1"
    assert t.query("admin/tools:leaf", {"x": "2"}) == "leaf 2"
    assert t.query(internal.admin.tools.leaf, {}) == "leaf "


def test_references_inside_functions(t: ConvexEmulator) -> None:
    assert t.action(api.messages.send_via_action, {"body": "via"})["count"] == 1
    assert bodies(t) == ["via"]


def test_internal_functions_are_callable_from_the_emulator(t: ConvexEmulator) -> None:
    msg_id = t.mutation(api.messages.send, {"body": "gone soon", "author": "x"})
    assert t.mutation(internal.messages.remove, {"id": msg_id}) is None
    assert bodies(t) == []
    assert t.action(internal.messages.internal_act) == "internal action ran"


def test_unknown_function_path_names_the_path(t: ConvexEmulator) -> None:
    with pytest.raises(FunctionNotFoundError, match="messages:nope"):
        t.query("messages:nope", {})
    with pytest.raises(FunctionNotFoundError, match="nowhere:fn"):
        t.mutation(api.nowhere.fn, {})
    with pytest.raises(FunctionNotFoundError, match="admin/tools:missing"):
        t.query(api.admin.tools.missing, {})


def test_calling_a_function_as_the_wrong_kind_is_an_error(t: ConvexEmulator) -> None:
    with pytest.raises(FunctionKindError):
        t.mutation(api.messages.count, {})
    with pytest.raises(FunctionKindError):
        t.query(api.messages.send, {"body": "x", "author": "y"})
    with pytest.raises(FunctionKindError):
        t.query(api.messages.send_via_action, {"body": "x"})
    assert bodies(t) == []


# --- Argument validation -----------------------------------------------------------------------------


def test_wrong_type_names_function_path_and_expected(t: ConvexEmulator) -> None:
    with pytest.raises(ArgumentValidationError) as info:
        t.mutation(api.messages.send, {"body": 1, "author": "ada"})
    err = info.value
    assert "messages:send" in str(err)
    assert err.path == ".body"
    assert err.expected == "v.string()"
    assert "v.string()" in str(err)
    assert bodies(t) == []


def test_missing_required_field(t: ConvexEmulator) -> None:
    with pytest.raises(ArgumentValidationError) as info:
        t.mutation(api.messages.send, {"body": "hi"})
    assert "messages:send" in str(info.value)
    assert "missing the required field `author`" in str(info.value)
    assert bodies(t) == []


def test_extra_field_is_rejected(t: ConvexEmulator) -> None:
    with pytest.raises(ArgumentValidationError) as info:
        t.mutation(api.messages.send, {"body": "hi", "author": "a", "extra": 1})
    assert "extra field `extra`" in str(info.value)
    assert "messages:send" in str(info.value)
    assert bodies(t) == []


@pytest.mark.parametrize("bad", [[1, 2], "text", 5, ("body", "x")])
def test_args_must_be_a_dict(t: ConvexEmulator, bad) -> None:
    with pytest.raises(ArgumentValidationError, match="messages:send_bare"):
        t.mutation(api.messages.send_bare, bad)
    assert bodies(t) == []


def test_args_validated_in_nested_calls_too(t: ConvexEmulator) -> None:
    def nested(ctx):
        return ctx.run_mutation(api.messages.send, {"body": 3, "author": "x"})

    with pytest.raises(ArgumentValidationError, match="messages:send"):
        t.run(nested)
    assert bodies(t) == []


def test_pydantic_model_as_args_validator(t: ConvexEmulator) -> None:
    msg_id = t.mutation(api.messages.send_pydantic, {"body": "typed"})
    assert t.run(lambda ctx: ctx.db.get(msg_id))["author"] == "pydantic"
    with pytest.raises(ArgumentValidationError) as info:
        t.mutation(api.messages.send_pydantic, {"body": 12})
    assert info.value.path == ".body"
    assert "messages:send_pydantic" in str(info.value)
    with pytest.raises(ArgumentValidationError, match="missing the required field `body`"):
        t.mutation(api.messages.send_pydantic, {})
    assert bodies(t) == ["typed"]


# --- Return value validation ---------------------------------------------------------------------------


def test_return_value_validated(t: ConvexEmulator) -> None:
    with pytest.raises(ReturnsValidationError) as info:
        t.query(api.messages.returns_wrong)
    assert "messages:returns_wrong" in str(info.value)
    assert info.value.expected == "v.string()"
    with pytest.raises(ReturnsValidationError, match="extra field `extra`"):
        t.query(api.messages.returns_extra)


def test_return_validation_failure_rolls_back_the_mutation(t: ConvexEmulator) -> None:
    with pytest.raises(ReturnsValidationError, match="messages:write_then_bad_return"):
        t.mutation(api.messages.write_then_bad_return)
    assert bodies(t) == []


def test_number_return_converts_int_to_float(t: ConvexEmulator) -> None:
    result = t.query(api.messages.returns_int_as_number)
    assert result == 3.0 and type(result) is float


# --- Errors ------------------------------------------------------------------------------------------------


def test_convex_error_data_reaches_the_caller_and_rolls_back(t: ConvexEmulator) -> None:
    with pytest.raises(ConvexError) as info:
        t.mutation(api.messages.fail_with_convex_error, {"n": 7})
    assert info.value.data == {"code": "NOPE", "n": 7}
    assert bodies(t) == []


def test_convex_error_through_an_action(t: ConvexEmulator) -> None:
    def act(ctx):
        try:
            ctx.run_mutation(api.messages.fail_with_convex_error, {"n": 1})
        except ConvexError as e:
            return e.data
        return None

    assert t.action(act) == {"code": "NOPE", "n": 1}


# --- ctx per kind -------------------------------------------------------------------------------------------


def test_query_ctx_cannot_write_or_schedule(t: ConvexEmulator) -> None:
    msg_id = t.mutation(api.messages.send, {"body": "keep", "author": "a"})
    with pytest.raises(ReadOnlyError):
        t.query(lambda ctx: ctx.db.insert("messages", {"body": "x", "author": "y"}))
    with pytest.raises(ReadOnlyError):
        t.query(lambda ctx: ctx.db.patch(msg_id, {"body": "changed"}))
    with pytest.raises(ReadOnlyError):
        t.query(lambda ctx: ctx.db.replace(msg_id, {"body": "changed", "author": "b"}))
    with pytest.raises(ReadOnlyError):
        t.query(lambda ctx: ctx.db.delete(msg_id))
    with pytest.raises(AttributeError):
        t.query(lambda ctx: ctx.scheduler)
    with pytest.raises(AttributeError):
        t.query(lambda ctx: ctx.run_mutation(api.messages.send, {"body": "x", "author": "y"}))
    assert bodies(t) == ["keep"]


def test_action_ctx_has_no_db(t: ConvexEmulator) -> None:
    with pytest.raises(AttributeError, match="run_query"):
        t.action(lambda ctx: ctx.db)


def test_action_can_run_other_actions(t: ConvexEmulator) -> None:
    assert t.action(lambda ctx: ctx.run_action(internal.messages.internal_act)) == "internal action ran"

    async def async_outer(ctx):
        return await ctx.run_action(internal.messages.internal_act, {})

    assert t.action(async_outer) == "internal action ran"


def test_camel_case_aliases(t: ConvexEmulator) -> None:
    def mutate(ctx):
        msg_id = ctx.db.insert("messages", {"body": "camel", "author": "c"})
        assert ctx.db.normalizeId("messages", str(msg_id)) == msg_id
        via_query = ctx.runQuery(api.messages.list_all, {})
        via_mutation = ctx.runMutation(api.messages.send, {"body": "camel2", "author": "c"})
        indexed = ctx.db.query("messages").withIndex("by_author", lambda q: q.eq("author", "c")).collect()
        return via_query, via_mutation.table, [d["body"] for d in indexed], ctx.auth.getUserIdentity()

    assert t.run(mutate) == (["camel"], "messages", ["camel", "camel2"], None)
    assert t.action(lambda ctx: ctx.runQuery(api.messages.list_all, {})) == ["camel", "camel2"]
    assert t.action(lambda ctx: ctx.runMutation(api.messages.send, {"body": "c3", "author": "c"})).table == "messages"
    assert t.withIdentity({"subject": "u9"}).query(api.messages.whoami_camel)["subject"] == "u9"


# --- Identity -------------------------------------------------------------------------------------------------------

ADA = {
    "subject": "u1",
    "issuer": "https://convex.test",
    "tokenIdentifier": "https://convex.test|u1",
    "name": "Ada",
}


def test_no_identity_by_default(t: ConvexEmulator) -> None:
    assert t.query(api.messages.whoami) is None
    assert t.run(lambda ctx: ctx.auth.get_user_identity()) is None
    assert t.action(lambda ctx: ctx.auth.get_user_identity()) is None


def test_with_identity_fills_issuer_and_token_identifier(t: ConvexEmulator) -> None:
    ada = t.with_identity({"subject": "u1", "name": "Ada"})
    assert ada.query(api.messages.whoami) == ADA
    assert ada.query(lambda ctx: ctx.auth.get_user_identity()) == ADA
    assert ada.run(lambda ctx: ctx.auth.get_user_identity()) == ADA
    # The emulator itself stays anonymous.
    assert t.query(api.messages.whoami) is None


def test_with_identity_keeps_a_given_issuer(t: ConvexEmulator) -> None:
    ident = t.with_identity({"subject": "u2", "issuer": "https://auth.example"}).query(api.messages.whoami)
    assert ident["issuer"] == "https://auth.example"
    assert ident["tokenIdentifier"] == "https://auth.example|u2"


def test_identity_visible_in_nested_calls(t: ConvexEmulator) -> None:
    ada = t.with_identity({"subject": "u1", "name": "Ada"})
    assert ada.mutation(api.messages.whoami_nested) == {"query": ADA, "mutation": ADA}


def test_identity_visible_in_actions_and_their_calls(t: ConvexEmulator) -> None:
    ada = t.with_identity({"subject": "u1", "name": "Ada"})
    assert ada.action(api.messages.whoami_action) == {
        "own": ADA,
        "query": ADA,
        "mutation": {"query": ADA, "mutation": ADA},
    }
    assert ada.action(api.messages.whoami_action_async) == {"own": ADA, "query": ADA}
    assert t.action(api.messages.whoami_action) == {
        "own": None,
        "query": None,
        "mutation": {"query": None, "mutation": None},
    }


# --- Inline calls from the emulator ------------------------------------------------------------------------


def test_inline_query_mutation_action_and_run(t: ConvexEmulator) -> None:
    msg_id = t.mutation(lambda ctx: ctx.db.insert("messages", {"body": "inline", "author": "i"}))
    assert msg_id.table == "messages"
    assert t.run(lambda ctx: ctx.db.get(msg_id))["body"] == "inline"
    assert t.query(lambda ctx: ctx.db.get(msg_id))["author"] == "i"
    assert t.action(lambda ctx: ctx.run_query(api.messages.list_all, {})) == ["inline"]

    async def async_inline(ctx):
        return (await ctx.db.get(msg_id))["body"]

    assert t.query(async_inline) == "inline"
    assert t.run(async_inline) == "inline"


def test_inline_functions_take_no_args(t: ConvexEmulator) -> None:
    with pytest.raises(TypeError):
        t.query(lambda ctx: 1, {"x": 1})


def test_ctx_cannot_be_used_after_its_function_returned(t: ConvexEmulator) -> None:
    kept = t.run(lambda ctx: ctx)
    with pytest.raises(Exception, match="already returned"):
        kept.db.insert("messages", {"body": "late", "author": "x"})
    assert bodies(t) == []
