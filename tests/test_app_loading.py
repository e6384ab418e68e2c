"""Building a ConvexEmulator: from an app folder (or its convex/ folder), from modules=, the
fixture app; start times; import failures; bad input that must leave nothing half-written."""

from __future__ import annotations

import textwrap
import types
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from convex_py import ConvexError, Id, api, define_schema, define_table, internal, mutation, query, v
from convex_py.errors import (
    AppLoadError,
    ArgumentValidationError,
    FunctionNotFoundError,
    InvalidIdError,
    InvalidReferenceError,
    InvalidTableError,
    SchemaValidationError,
)
from emulator import ConvexEmulator

ROOT = Path(__file__).resolve().parent.parent
ORDERS_APP = ROOT / "fixtures" / "orders"
START = "2030-01-01T00:00:00Z"
START_MS = 1893456000000.0


def write_app(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return root


NOTES_APP = {
    "convex/schema.py": """
        from convex_py import define_schema, define_table, v

        schema = define_schema({
            "notes": define_table({"text": v.string(), "owner": v.optional(v.string())}).index("by_owner", ["owner"]),
        })
    """,
    "convex/notes.py": """
        from convex_py import mutation, query, internal_mutation, v, internal
        from .util import shout

        @mutation(args={"text": v.string()}, returns=v.id("notes"))
        def add(ctx, args):
            return ctx.db.insert("notes", {"text": shout(args["text"])})

        @query
        def texts(ctx, args):
            return [n["text"] for n in ctx.db.query("notes").collect()]

        @internal_mutation(args={"id": v.id("notes")})
        def wipe(ctx, args):
            ctx.db.delete(args["id"])
    """,
    "convex/util.py": """
        def shout(text):
            return text.upper()
    """,
    "convex/admin/users.py": """
        from convex_py import mutation, query, internal

        @mutation
        def remove(ctx, args):
            ctx.db.delete(args["id"])
            return "removed"

        @query
        def count(ctx, args):
            return len(ctx.db.query("notes").collect())

        @mutation
        def add_via_nested(ctx, args):
            return ctx.run_mutation(internal.admin.users.helper, {})

        from convex_py import internal_mutation

        @internal_mutation
        def helper(ctx, args):
            return ctx.db.insert("notes", {"text": "nested"})
    """,
}


# --- Loading from a folder ----------------------------------------------------------------------------------


@pytest.mark.parametrize("which", ["app", "convex"])
def test_load_from_app_folder_or_its_convex_folder(tmp_path: Path, which: str) -> None:
    root = write_app(tmp_path, NOTES_APP)
    t = ConvexEmulator(root if which == "app" else root / "convex", start_time=START)
    note_id = t.mutation(api.notes.add, {"text": "hi"})
    assert isinstance(note_id, Id) and note_id.table == "notes"
    assert t.query(api.notes.texts) == ["HI"]
    assert t.query("notes:texts") == ["HI"]


def test_load_from_a_str_path(tmp_path: Path) -> None:
    root = write_app(tmp_path, NOTES_APP)
    t = ConvexEmulator(str(root))
    t.mutation("notes:add", {"text": "x"})
    assert t.query(api.notes.texts) == ["X"]


def test_nested_modules_get_slash_paths(tmp_path: Path) -> None:
    t = ConvexEmulator(write_app(tmp_path, NOTES_APP), start_time=START)
    note_id = t.mutation(api.notes.add, {"text": "a"})
    assert t.query(api.admin.users.count) == 1
    assert t.mutation("admin/users:remove", {"id": note_id}) == "removed"
    assert t.query("admin/users:count") == 0
    assert t.mutation(api.admin.users.add_via_nested).table == "notes"
    assert t.query(api.notes.texts) == ["nested"]


def test_schema_py_is_enforced(tmp_path: Path) -> None:
    t = ConvexEmulator(write_app(tmp_path, NOTES_APP), start_time=START)
    # A table schema.py does not declare is writable at run time, unchecked (as in Convex).
    assert t.run(lambda ctx: ctx.db.insert("other", {"x": 1})).table == "other"
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.insert("notes", {"text": 1}))
    with pytest.raises(ArgumentValidationError, match="notes:add"):
        t.mutation(api.notes.add, {"text": 1})
    assert t.query(api.notes.texts) == []
    docs = t.query(lambda ctx: ctx.db.query("notes").with_index("by_owner", lambda q: q.eq("owner", "x")).collect())
    assert docs == []


def test_two_emulators_of_one_folder_are_independent(tmp_path: Path) -> None:
    root = write_app(tmp_path, NOTES_APP)
    a = ConvexEmulator(root)
    b = ConvexEmulator(root)
    a.mutation(api.notes.add, {"text": "only in a"})
    assert a.query(api.notes.texts) == ["ONLY IN A"]
    assert b.query(api.notes.texts) == []


def test_app_without_schema(tmp_path: Path) -> None:
    root = write_app(tmp_path, {"convex/free.py": """
        from convex_py import mutation

        @mutation
        def put(ctx, args):
            return ctx.db.insert(args["table"], {"v": args["v"]})
    """})
    t = ConvexEmulator(root)
    assert t.mutation("free:put", {"table": "anything", "v": 1}).table == "anything"


def test_missing_folder_is_an_app_load_error(tmp_path: Path) -> None:
    with pytest.raises(AppLoadError):
        ConvexEmulator(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AppLoadError):
        ConvexEmulator(tmp_path / "empty")


def test_module_raising_on_import_names_file_and_line(tmp_path: Path) -> None:
    root = write_app(tmp_path, {
        "convex/good.py": """
            from convex_py import query

            @query
            def ok(ctx, args):
                return 1
        """,
        "convex/broken.py": """
            from convex_py import query
            x = 1
            raise RuntimeError("boom at import")
        """,
    })
    with pytest.raises(AppLoadError) as info:
        ConvexEmulator(root)
    message = str(info.value)
    assert "broken.py" in message
    assert "line 3" in message
    assert "boom at import" in message


def test_module_with_a_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    root = write_app(tmp_path, {"convex/bad_syntax.py": """
        from convex_py import query

        def broken(:
            pass
    """})
    with pytest.raises(AppLoadError) as info:
        ConvexEmulator(root)
    assert "bad_syntax.py" in str(info.value)
    assert "line 3" in str(info.value)


def test_nested_module_import_error_names_its_path(tmp_path: Path) -> None:
    root = write_app(tmp_path, {"convex/admin/tools.py": """
        import definitely_not_a_module_xyz
    """})
    with pytest.raises(AppLoadError) as info:
        ConvexEmulator(root)
    assert "admin/tools.py" in str(info.value)
    assert "line 1" in str(info.value)
    assert "definitely_not_a_module_xyz" in str(info.value)


def test_import_error_in_a_helper_imported_by_a_module(tmp_path: Path) -> None:
    root = write_app(tmp_path, {
        "convex/main.py": """
            from convex_py import query
            from .helper import VALUE
        """,
        "convex/helper.py": """
            VALUE = 1 / 0
        """,
    })
    with pytest.raises(AppLoadError) as info:
        ConvexEmulator(root)
    assert "helper.py" in str(info.value) and "line 1" in str(info.value)


# --- Building from modules= ---------------------------------------------------------------------------------


@query
def hello(ctx, args):
    return "hello " + args.get("name", "world")


def test_modules_as_dicts_or_python_modules() -> None:
    module = types.ModuleType("greetings")
    module.hello = hello
    module.not_a_function = 42
    t = ConvexEmulator(modules={"greetings": module, "other": {"hi": hello}})
    assert t.query(api.greetings.hello, {"name": "ada"}) == "hello ada"
    assert t.query("other:hi") == "hello world"
    assert t.query(hello) == "hello world"
    with pytest.raises(FunctionNotFoundError):
        t.query("greetings:not_a_function")


def test_schema_argument() -> None:
    schema = define_schema({"things": define_table({"n": v.int64()})})
    t = ConvexEmulator(modules={}, schema=schema)
    with pytest.raises(SchemaValidationError):
        t.run(lambda ctx: ctx.db.insert("things", {"n": 1.5}))
    assert t.run(lambda ctx: ctx.db.insert("things", {"n": 1})).table == "things"
    assert t.run(lambda ctx: ctx.db.insert("other", {})).table == "other"  # undeclared: unchecked


def test_a_function_not_in_the_app_is_not_found() -> None:
    t = ConvexEmulator(modules={"greetings": {"hello": hello}})

    @query
    def stranger(ctx, args):
        return 1

    with pytest.raises(FunctionNotFoundError):
        t.query(stranger)


def test_not_a_reference() -> None:
    t = ConvexEmulator(modules={"greetings": {"hello": hello}})
    with pytest.raises(InvalidReferenceError):
        t.query(42)
    with pytest.raises(InvalidReferenceError):
        t.query(api.greetings)


# --- Start time ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start",
    [
        "2030-01-01T00:00:00Z",
        "2030-01-01T00:00:00+00:00",
        "2030-01-01T01:00:00+01:00",
        datetime(2030, 1, 1, tzinfo=timezone.utc),
        datetime(2029, 12, 31, 19, 0, tzinfo=timezone(timedelta(hours=-5))),
        1893456000000,
        1893456000000.0,
    ],
)
def test_start_time_forms(start) -> None:
    t = ConvexEmulator(modules={}, start_time=start)
    assert t.now == START_MS
    doc_id = t.run(lambda ctx: ctx.db.insert("x", {}))
    assert t.run(lambda ctx: ctx.db.get(doc_id))["_creationTime"] == START_MS


def test_time_moves_only_when_told() -> None:
    t = ConvexEmulator(modules={}, start_time=START)
    t.run(lambda ctx: ctx.db.insert("x", {}))
    assert t.now == START_MS
    t.advance(minutes=2)
    assert t.now == START_MS + 120_000
    t.advance(timedelta(seconds=1))
    assert t.now == START_MS + 121_000


def test_default_start_time_is_about_now() -> None:
    import time

    t = ConvexEmulator(modules={})
    assert abs(t.now - time.time() * 1000) < 60_000


def test_naive_datetime_start_is_refused() -> None:
    with pytest.raises(ValueError):
        ConvexEmulator(modules={}, start_time=datetime(2030, 1, 1))


# --- The fixture app ---------------------------------------------------------------------------------------------------


@pytest.fixture
def orders() -> ConvexEmulator:
    return ConvexEmulator(ORDERS_APP, start_time=START)


def test_fixture_app_create_and_read(orders: ConvexEmulator) -> None:
    order_id = orders.mutation(api.orders.create_order, {"items": ["book"]})
    assert isinstance(order_id, Id) and order_id.table == "orders"
    doc = orders.query(api.orders.get, {"orderId": order_id})
    assert doc["items"] == ["book"] and doc["status"] == "new"
    assert doc["_creationTime"] == START_MS
    assert [d["_id"] for d in orders.query(api.orders.by_status, {"status": "new"})] == [order_id]


def test_fixture_app_from_its_convex_folder() -> None:
    t = ConvexEmulator(ORDERS_APP / "convex", start_time=START)
    assert t.query(api.orders.by_status, {"status": "new"}) == []


def test_fixture_app_convex_error(orders: ConvexEmulator) -> None:
    with pytest.raises(ConvexError) as info:
        orders.mutation(api.orders.create_order, {"items": []})
    assert info.value.data == {"code": "EMPTY_ORDER", "message": "An order needs at least one item"}
    assert orders.query(lambda ctx: ctx.db.query("orders").collect()) == []
    assert orders.scheduled_functions() == []


def test_fixture_app_identity(orders: ConvexEmulator) -> None:
    ada = orders.with_identity({"subject": "u1", "name": "Ada"})
    order_id = ada.mutation(api.orders.create_order, {"items": ["pen"]})
    assert [d["_id"] for d in ada.query(api.orders.my_orders)] == [order_id]
    assert orders.query(api.orders.my_orders) == []
    assert orders.with_identity({"subject": "u2"}).query(api.orders.my_orders) == []


def test_fixture_app_internal_function_from_the_emulator(orders: ConvexEmulator) -> None:
    order_id = orders.mutation(api.orders.create_order, {"items": ["book"]})
    email_id = orders.mutation(internal.emails.send_confirmation, {"orderId": order_id})
    assert email_id.table == "emails"
    assert orders.query(api.orders.get, {"orderId": order_id})["status"] == "confirmed"
    orders.mutation(internal.orders.archive_order, {"orderId": order_id})
    assert orders.query(api.orders.get, {"orderId": order_id})["archived"] is True


# --- Bad input: nothing half-written ----------------------------------------------------------------------------------


def snapshot(t: ConvexEmulator) -> tuple:
    return (
        t.query(lambda ctx: ctx.db.query("orders").collect()),
        t.query(lambda ctx: ctx.db.query("emails").collect()),
        t.scheduled_functions(),
    )


def test_id_of_the_wrong_table_as_an_argument(orders: ConvexEmulator) -> None:
    order_id = orders.mutation(api.orders.create_order, {"items": ["book"]})
    email_id = orders.mutation(internal.emails.send_confirmation, {"orderId": order_id})
    before = snapshot(orders)
    with pytest.raises(ArgumentValidationError) as info:
        orders.mutation(internal.emails.send_confirmation, {"orderId": email_id})
    assert "emails:send_confirmation" in str(info.value)
    assert info.value.path == ".orderId"
    assert 'v.id("orders")' in str(info.value)
    with pytest.raises(ArgumentValidationError):
        orders.query(api.orders.get, {"orderId": "not an id"})
    assert snapshot(orders) == before


def test_orders_id_where_an_emails_id_is_expected() -> None:
    @mutation(args={"emailId": v.id("emails")})
    def resend(ctx, args):
        ctx.db.patch(args["emailId"], {"kind": "resent"})

    schema = define_schema({
        "orders": define_table({"items": v.array(v.string())}),
        "emails": define_table({"orderId": v.id("orders"), "kind": v.string()}),
    })
    t = ConvexEmulator(modules={"mail": {"resend": resend}}, schema=schema, start_time=START)
    order_id = t.run(lambda ctx: ctx.db.insert("orders", {"items": ["a"]}))
    email_id = t.run(lambda ctx: ctx.db.insert("emails", {"orderId": order_id, "kind": "first"}))
    with pytest.raises(ArgumentValidationError) as info:
        t.mutation(api.mail.resend, {"emailId": order_id})
    assert "mail:resend" in str(info.value)
    assert info.value.path == ".emailId"
    assert 'v.id("emails")' in str(info.value)
    # A plain string holding an orders id is refused the same way.
    with pytest.raises(ArgumentValidationError):
        t.mutation(api.mail.resend, {"emailId": str(order_id)})
    assert t.run(lambda ctx: ctx.db.get(email_id))["kind"] == "first"
    assert t.run(lambda ctx: ctx.db.get(order_id))["items"] == ["a"]
    t.mutation(api.mail.resend, {"emailId": str(email_id)})
    assert t.run(lambda ctx: ctx.db.get(email_id))["kind"] == "resent"


def test_db_get_with_the_wrong_table(orders: ConvexEmulator) -> None:
    order_id = orders.mutation(api.orders.create_order, {"items": ["book"]})
    before = snapshot(orders)
    with pytest.raises(InvalidIdError):
        orders.query(lambda ctx: ctx.db.get("emails", order_id))
    with pytest.raises(InvalidIdError):
        orders.run(lambda ctx: ctx.db.patch("emails", order_id, {"kind": "x"}))
    assert snapshot(orders) == before


@pytest.mark.parametrize("bad", [["book"], "book", 1, ("book",)])
def test_non_dict_args(orders: ConvexEmulator, bad) -> None:
    with pytest.raises(ArgumentValidationError, match="orders:create_order"):
        orders.mutation(api.orders.create_order, bad)
    assert snapshot(orders) == ([], [], [])


def test_unknown_function(orders: ConvexEmulator) -> None:
    with pytest.raises(FunctionNotFoundError, match="orders:delete_everything"):
        orders.mutation("orders:delete_everything", {})
    with pytest.raises(FunctionNotFoundError, match="billing:charge"):
        orders.action(api.billing.charge, {})
    assert snapshot(orders) == ([], [], [])


def test_unknown_table_with_a_schema(orders: ConvexEmulator) -> None:
    def go(ctx):
        ctx.db.insert("orders", {"items": ["a"], "status": "new"})
        ctx.db.insert("invoices-2030", {"total": 1})  # not a valid table name

    with pytest.raises(InvalidTableError, match="invoices-2030"):
        orders.run(go)
    assert snapshot(orders) == ([], [], [])


def test_schema_violation_midway(orders: ConvexEmulator) -> None:
    order_id = orders.mutation(api.orders.create_order, {"items": ["a"]})
    before = snapshot(orders)

    def go(ctx):
        ctx.db.patch(order_id, {"status": "archived"})
        ctx.db.insert("emails", {"orderId": order_id, "kind": "x", "sentAt": 1.0})
        ctx.db.patch(order_id, {"status": "lost"})

    with pytest.raises(SchemaValidationError):
        orders.run(go)
    assert snapshot(orders) == before
