"""Port of convex-test's convex/schema.test.ts: table, field and index names must be identifiers."""

from __future__ import annotations

import pytest

from convex_py import define_schema, define_table, v
from emulator import ConvexEmulator


def _build(tables):
    return ConvexEmulator(modules={}, schema=define_schema(tables))


# schema.test.ts: test("table names must be identifiers")
@pytest.mark.parametrize("name", ["a-b", "_a"])
def test_table_names_must_be_identifiers(name):
    with pytest.raises(Exception, match=name):
        _build({name: define_table({})})


# schema.test.ts: test("field names must be identifiers")
def test_field_names_must_be_identifiers():
    with pytest.raises(Exception, match="_a"):
        _build({"a": define_table({"_a": v.string()})})


# schema.test.ts: test("accepts _id and _creationTime")
def test_accepts_id_and_creation_time():
    t = _build({"a": define_table({"_id": v.string(), "_creationTime": v.number()})})
    assert t.run(lambda ctx: ctx.db.query("a").collect()) == []


# schema.test.ts: test("field names must be identifiers union")
def test_field_names_must_be_identifiers_union():
    with pytest.raises(Exception, match="a-b"):
        _build({"a": define_table(v.union(v.object({"a-b": v.string()}), v.object({"x": v.string()})))})


# schema.test.ts: test("index names must be identifiers")
def test_index_names_must_be_identifiers():
    with pytest.raises(Exception, match="a-b"):
        _build({"a": define_table({"a": v.string()}).index("a-b", ["a"])})
