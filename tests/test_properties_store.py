"""Property tests: the store, its indexes, queries, pagination and transactions against a plain model.

A Hypothesis state machine (fakeredis-style) writes documents of mixed Convex values
into a table with a schema (`docs`, typed, with indexes) and one without (`loose`),
in mutations that commit, fail, or nest a caught failing `run_mutation`; after every
step it compares full scans and every index, both orders, with the model of
tests/_property_model.py, and runs random index ranges, filters, take/first/unique
and pagination chains (with writes between pages) against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from convex_py import UNSET, define_schema, define_table, internal_mutation, v
from convex_py.errors import DocumentNotFoundError, InvalidQueryError, NotUniqueError
from emulator import ConvexEmulator

from _property_model import (
    FilterModel,
    ModelError,
    build,
    Overflow,
    bodies,
    encode,
    field_value,
    filters,
    index_key,
    patches,
    picks,
    resolve,
    values,
)

T0 = 1893456000000.0  # 2030-01-01T00:00:00Z
TYPED, LOOSE = "docs", "loose"
INDEXES: dict[str, tuple[str, ...]] = {"by_creation_time": (), "by_a": ("a",), "by_a_b": ("a", "b"), "by_nx": ("n.x",)}
SCHEMA = define_schema({
    TYPED: define_table(v.any()).index("by_a", ["a"]).index("by_a_b", ["a", "b"]).index("by_nx", ["n.x"]),
})


class Boom(Exception):
    """The failure a test mutation raises on purpose."""


# --- Writes, run the same way inline and inside a nested run_mutation ----------------------------


def run_op(ctx: Any, op: tuple[Any, ...]) -> tuple[Any, float] | None:
    """Apply one write; an insert returns (new id, its _creationTime)."""
    kind = op[0]
    if kind == "insert":
        doc_id = ctx.db.insert(op[1], op[2])
        return doc_id, ctx.db.get(doc_id)["_creationTime"]
    if kind == "patch":
        ctx.db.patch(op[1], op[2])
    elif kind == "replace":
        ctx.db.replace(op[1], op[2])
    else:
        ctx.db.delete(op[1])
    return None


def as_args(op: tuple[Any, ...]) -> list[Any]:
    """An op as a Convex value (UNSET is not one: a patch lists the fields it removes)."""
    if op[0] == "patch":
        kept = {k: value for k, value in op[2].items() if value is not UNSET}
        return ["patch", op[1], kept, [k for k, value in op[2].items() if value is UNSET]]
    return list(op)


def from_args(op: list[Any]) -> tuple[Any, ...]:
    if op[0] == "patch":
        return ("patch", op[1], {**op[2], **{k: UNSET for k in op[3]}})
    return tuple(op)


@internal_mutation
def apply_ops(ctx, args):
    created = [run_op(ctx, from_args(op)) for op in args["ops"]]
    if args["fail"]:
        raise Boom("the nested mutation fails")
    return [list(c) for c in created if c is not None]


MODULES = {"props": {"apply_ops": apply_ops}}


def apply_to_model(docs: dict[str, dict[str, Any]], op: tuple[Any, ...], created: Any) -> None:
    """Apply one write to the model (`docs`: id -> document); raise KeyError for a missing document."""
    kind = op[0]
    if kind == "insert":
        doc_id, creation_time = created
        docs[doc_id] = {**op[2], "_id": doc_id, "_creationTime": creation_time, "_table": op[1]}
        return
    old = docs[op[1]]
    if kind == "delete":
        del docs[op[1]]
        return
    system = {"_id": old["_id"], "_creationTime": old["_creationTime"], "_table": old["_table"]}
    if kind == "replace":
        docs[op[1]] = {**op[2], **system}
    else:
        merged = {k: value for k, value in old.items() if k not in system}
        for k, value in op[2].items():
            if value is UNSET:
                merged.pop(k, None)
            else:
                merged[k] = value
        docs[op[1]] = {**merged, **system}


def public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: value for k, value in doc.items() if k != "_table"}


def canon(docs: list[dict[str, Any]]) -> list[bytes]:
    """Documents compared as Convex compares values (1 != 1.0, -0.0 != 0.0, NaN == NaN)."""
    return [encode(public(doc)) for doc in docs]


write_ops = st.one_of(
    st.tuples(st.just("insert"), st.sampled_from([TYPED, TYPED, LOOSE]), bodies()),
    st.tuples(st.just("insert"), st.sampled_from([TYPED, LOOSE]), bodies()),
    st.tuples(st.just("patch"), st.integers(0, 10**6), patches()),
    st.tuples(st.just("replace"), st.integers(0, 10**6), bodies()),
    st.tuples(st.just("delete"), st.integers(0, 10**6)),
)


# --- Queries ----------------------------------------------------------------------------------------


@dataclass
class Spec:
    table: str
    index: str | None
    eqs: list[Any] = field(default_factory=list)
    bounds: list[tuple[str, Any]] = field(default_factory=list)  # in the order the builder gets them
    order: str = "asc"
    filters: tuple[Any, ...] = ()  # chained .filter(...) calls: all must pass

    @property
    def fields(self) -> tuple[str, ...]:
        return INDEXES[self.index or "by_creation_time"] + ("_creationTime",)

    def build(self, ctx: Any) -> Any:
        q = ctx.db.query(self.table)
        if self.index is not None:
            fields = self.fields

            def index_range(r: Any) -> Any:
                for name, value in zip(fields, self.eqs):
                    r = r.eq(name, value)
                for op, value in self.bounds:
                    r = getattr(r, op)(fields[len(self.eqs)], value)
                return r

            q = q.with_index(self.index, index_range if self.eqs or self.bounds else None)
        q = q.order(self.order)
        for expr in self.filters:
            q = q.filter(lambda f, expr=expr: build(expr, f))
        return q

    def rows(self, docs: dict[str, dict[str, Any]]) -> list[tuple[bytes, dict[str, Any]]]:
        """The model's index range: (key, document) in the query's order, before the filter."""
        fields = self.fields
        index_fields = fields[:-1]

        def wanted(name: str, value: Any) -> bytes:
            return encode(float(value) if name == "_creationTime" and type(value) is int else value)

        out = []
        for doc in docs.values():
            if doc["_table"] != self.table:
                continue
            parts = [encode(field_value(doc, name)) for name in fields]
            if any(parts[i] != wanted(fields[i], value) for i, value in enumerate(self.eqs)):
                continue
            ok = True
            for op, value in self.bounds:
                part, bound = parts[len(self.eqs)], wanted(fields[len(self.eqs)], value)
                ok = ok and {"gt": part > bound, "gte": part >= bound, "lt": part < bound, "lte": part <= bound}[op]
            if ok:
                out.append((index_key(doc, index_fields), doc))
        out.sort(key=lambda item: item[0], reverse=self.order == "desc")
        return out

    def passes(self, doc: dict[str, Any]) -> bool:
        model = FilterModel(self.table == TYPED)
        return all(model.value(expr, doc) is True for expr in self.filters)


# Literals: fresh values, or values stored at the time (picked when the query runs).
LITERALS = st.one_of(values, picks)
TIMES = st.one_of(picks, st.floats(T0 - 10, T0 + 10**6))
FILTERS = filters(LITERALS, arithmetic=True)
PLAIN_FILTERS = filters(LITERALS, arithmetic=False)


@st.composite
def specs(draw: Any, arithmetic: bool = True) -> Spec:
    """A query: table, index, range (picks unresolved), order and filter."""
    table = draw(st.sampled_from([TYPED, TYPED, LOOSE]))
    names = list(INDEXES) + [None] if table == TYPED else ["by_creation_time", None]
    spec = Spec(table, draw(st.sampled_from(names)), order=draw(st.sampled_from(["asc", "desc"])))
    if spec.index is not None:
        fields = spec.fields
        count = draw(st.integers(0, len(fields)))
        spec.eqs = [draw(TIMES if name == "_creationTime" else LITERALS) for name in fields[:count]]
        if count < len(fields):
            bound_values = TIMES if fields[count] == "_creationTime" else LITERALS
            lower = draw(st.one_of(st.none(), st.tuples(st.sampled_from(["gt", "gte"]), bound_values)))
            upper = draw(st.one_of(st.none(), st.tuples(st.sampled_from(["lt", "lte"]), bound_values)))
            spec.bounds = [b for b in (lower, upper) if b is not None]
            if draw(st.booleans()):
                spec.bounds.reverse()  # Convex accepts the bounds in either order
    spec.filters = tuple(draw(st.lists(FILTERS if arithmetic else PLAIN_FILTERS, max_size=2)))
    return spec


def resolved(spec: Spec, docs: dict[str, dict[str, Any]]) -> Spec:
    """`spec` with its picks replaced by values stored now (creation times for `_creationTime`)."""
    pool = [field_value(doc, name) for doc in docs.values() for name in ("a", "b", "n.x")]
    times = [doc["_creationTime"] for doc in docs.values()]
    fields = spec.fields
    spec.eqs = [resolve(value, times if name == "_creationTime" else pool) for name, value in zip(fields, spec.eqs)]
    bound_pool = times if len(spec.eqs) < len(fields) and fields[len(spec.eqs)] == "_creationTime" else pool
    spec.bounds = [(op, resolve(value, bound_pool)) for op, value in spec.bounds]
    spec.filters = tuple(resolve(expr, pool + times) for expr in spec.filters)
    return spec


@dataclass
class Pagination:
    spec: Spec
    num_items: int
    cursor: str | None = None
    position: bytes | None = None  # the model's cursor: the key of the last row read
    done: bool = False


class StoreMachine(RuleBasedStateMachine):
    """One emulator and the model side by side."""

    @initialize(seed=st.lists(st.tuples(st.sampled_from([TYPED, TYPED, LOOSE]), bodies()), max_size=12))
    def start(self, seed: list[tuple[str, dict[str, Any]]]) -> None:
        self.t = ConvexEmulator(modules=MODULES, schema=SCHEMA, start_time=T0)
        self.docs: dict[str, dict[str, Any]] = {}
        self.ids: list[str] = []  # every committed id, deleted ones too
        self.last_creation_time = float("-inf")
        self.paginations: list[Pagination] = []
        if seed:
            self.write([("insert", table, body) for table, body in seed], False)

    def teardown(self) -> None:
        if hasattr(self, "t"):
            self.t.close()

    # --- writes ---------------------------------------------------------------------------------

    def resolve(self, ops: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Turn each op's pick of a document into one of the ids seen so far (skipping ops without any)."""
        out = []
        for op in ops:
            if op[0] == "insert":
                out.append(op)
            elif self.ids:
                out.append((op[0], self.ids[op[1] % len(self.ids)], *op[2:]))
        return out

    def simulate(self, docs: dict[str, dict[str, Any]], ops: list[tuple[Any, ...]], created: list[Any]) -> bool:
        """Apply `ops` to `docs`, taking new ids from `created`; False if one hits a missing document."""
        made = iter(created)
        for op in ops:
            try:
                apply_to_model(docs, op, next(made) if op[0] == "insert" else None)
            except KeyError:
                return False
        return True

    def commit(self, docs: dict[str, dict[str, Any]], created: list[Any]) -> None:
        for doc_id, creation_time in created:
            assert creation_time > self.last_creation_time, "_creationTime must strictly increase"
            assert creation_time >= self.t.now
            self.last_creation_time = creation_time
            self.ids.append(doc_id)
        self.docs = docs

    @rule(ops=st.lists(write_ops, min_size=1, max_size=4), fail=st.sampled_from([False, False, False, True]))
    def write(self, ops: list[tuple[Any, ...]], fail: bool) -> None:
        """A mutation of a few writes: all commit, or (a write fails, or it raises) none does."""
        ops = self.resolve(ops)
        created: list[Any] = []

        def body(ctx: Any) -> None:
            for op in ops:
                result = run_op(ctx, op)
                if result is not None:
                    created.append(result)
            if fail:
                raise Boom("the mutation fails")

        error = None
        try:
            self.t.run(body)
        except (Boom, DocumentNotFoundError) as exc:
            error = exc
        docs = dict(self.docs)
        fine = self.simulate(docs, ops, created)
        if not fine:
            assert isinstance(error, DocumentNotFoundError)
        elif fail:
            assert isinstance(error, Boom)
        else:
            assert error is None
            self.commit(docs, created)

    @rule(before=st.lists(write_ops, max_size=2), inner=st.lists(write_ops, min_size=1, max_size=3),
          after=st.lists(write_ops, max_size=2), inner_fails=st.booleans())
    def nested(self, before: list[Any], inner: list[Any], after: list[Any], inner_fails: bool) -> None:
        """A caught failing `ctx.run_mutation` rolls back its own writes only; a succeeding one stays."""
        before, inner, after = self.resolve(before), self.resolve(inner), self.resolve(after)
        created_before: list[Any] = []
        created_after: list[Any] = []
        outcome: dict[str, Any] = {}

        def body(ctx: Any) -> None:
            for op in before:
                result = run_op(ctx, op)
                if result is not None:
                    created_before.append(result)
            try:
                outcome["inner"] = ctx.run_mutation("props:apply_ops",
                                                    {"ops": [as_args(op) for op in inner], "fail": inner_fails})
            except (Boom, DocumentNotFoundError) as exc:
                outcome["error"] = exc
            for op in after:
                result = run_op(ctx, op)
                if result is not None:
                    created_after.append(result)

        error = None
        try:
            self.t.run(body)
        except DocumentNotFoundError as exc:
            error = exc
        docs = dict(self.docs)
        if not self.simulate(docs, before, created_before):
            assert isinstance(error, DocumentNotFoundError) and not outcome
            return
        inner_created = [tuple(c) for c in outcome.get("inner", [])]
        trial = dict(docs)
        inner_fine = self.simulate(trial, inner, inner_created) if "inner" in outcome else False
        if "inner" in outcome:
            assert inner_fine and not inner_fails
            docs = trial
        else:
            assert isinstance(outcome["error"], Boom if inner_fails and self.simulate(
                dict(docs), inner, [("x", 0.0)] * len(inner)) else DocumentNotFoundError)
        if not self.simulate(docs, after, created_after):
            assert isinstance(error, DocumentNotFoundError)
            return
        assert error is None
        self.commit(docs, created_before + inner_created + created_after)

    @rule(ms=st.sampled_from([0, 1, 2, 1000, 86_400_000]))
    def advance(self, ms: int) -> None:
        self.t.advance(ms)

    # --- reads ---------------------------------------------------------------------------------------

    def ordered(self, table: str, fields: tuple[str, ...]) -> list[dict[str, Any]]:
        return sorted((d for d in self.docs.values() if d["_table"] == table), key=lambda d: index_key(d, fields))

    @invariant()
    def scans_and_indexes_match_the_model(self) -> None:
        if not hasattr(self, "t"):
            return
        ids = list(self.ids)

        def read(ctx: Any) -> dict[Any, Any]:
            out: dict[Any, Any] = {}
            for order in ("asc", "desc"):
                out[LOOSE, None, order] = ctx.db.query(LOOSE).order(order).collect()
                out[LOOSE, "by_creation_time", order] = ctx.db.query(LOOSE).with_index("by_creation_time").order(
                    order).collect()
                out[TYPED, None, order] = ctx.db.query(TYPED).order(order).collect()
                for index in INDEXES:
                    out[TYPED, index, order] = ctx.db.query(TYPED).with_index(index).order(order).collect()
            out["get"] = [ctx.db.get(doc_id) for doc_id in ids]
            return out

        got = self.t.query(read)
        for table in (TYPED, LOOSE):
            model = {doc_id: doc for doc_id, doc in self.docs.items() if doc["_table"] == table}
            scan = got[table, None, "asc"]
            assert [encode(doc) for doc in scan] == [encode(public(model[doc["_id"]])) for doc in scan]
            for index in INDEXES if table == TYPED else ["by_creation_time"]:
                expected = [doc["_id"] for doc in self.ordered(table, INDEXES[index])]
                for name in (index, None) if index == "by_creation_time" else (index,):
                    assert [doc["_id"] for doc in got[table, name, "asc"]] == expected, (table, name)
                    assert [doc["_id"] for doc in got[table, name, "desc"]] == expected[::-1], (table, name)
        for doc_id, doc in zip(ids, got["get"]):
            assert (doc is None) == (doc_id not in self.docs), doc_id
            assert doc is None or doc["_id"] == doc_id

    def expected_docs(self, spec: Spec, limit: int | None) -> list[dict[str, Any]] | None:
        """What the query returns (ModelError propagates: the emulator must fail); None if not modelled."""
        out = []
        if limit == 0:
            return out
        try:
            for _key, doc in spec.rows(self.docs):
                if spec.passes(doc):
                    out.append(doc)
                    if limit is not None and len(out) >= limit:
                        break
        except Overflow:
            return None
        return out

    @rule(data=st.data(), terminal=st.sampled_from(["collect", "take", "first", "unique", "iterate"]),
          n=st.integers(0, 4), is_async=st.booleans())
    def query(self, data: Any, terminal: str, n: int, is_async: bool) -> None:
        spec = resolved(data.draw(specs()), self.docs)
        limit = {"collect": None, "iterate": None, "take": n, "first": 1, "unique": 2}[terminal]
        try:
            expected: Any = self.expected_docs(spec, limit)
        except ModelError:
            expected = InvalidQueryError
        if expected is None:
            return
        if terminal == "unique" and isinstance(expected, list) and len(expected) > 1:
            expected = NotUniqueError

        def run(ctx: Any) -> Any:
            q = spec.build(ctx)
            if terminal == "take":
                return q.take(n)
            if terminal == "iterate":
                return list(q)
            return getattr(q, terminal)()

        async def run_async(ctx: Any) -> Any:  # the same query from an `async def` handler
            q = spec.build(ctx)
            if terminal == "take":
                return await q.take(n)
            if terminal == "iterate":
                return [doc async for doc in q]
            return await getattr(q, terminal)()

        try:
            got = self.t.query(run_async if is_async else run)
        except (InvalidQueryError, NotUniqueError) as exc:
            assert expected is type(exc), (spec, exc)
            return
        assert isinstance(expected, list), (spec, got)
        if terminal in ("first", "unique"):
            assert canon([got] if got is not None else []) == canon(expected)
        else:
            assert canon(got) == canon(expected), spec

    # --- pagination ----------------------------------------------------------------------------------

    def page(self, pagination: Pagination) -> None:
        """Fetch the next page and compare it with the model's: the rows after the cursor's key now."""
        spec = pagination.spec
        got = self.t.query(lambda ctx: spec.build(ctx).paginate(
            {"numItems": pagination.num_items, "cursor": pagination.cursor}))
        if pagination.cursor == "_end":
            assert got == {"page": [], "isDone": True, "continueCursor": "_end"}
            pagination.done = True
            return
        rows = spec.rows(self.docs)
        position = pagination.position
        if position is not None:
            rows = [r for r in rows if (r[0] > position if spec.order == "asc" else r[0] < position)]
        page, read = [], 0
        for key, doc in rows:
            read += 1
            position = key
            if spec.passes(doc):
                page.append(doc)
                if len(page) >= pagination.num_items:
                    break
        done = read == len(rows)
        assert canon(got["page"]) == canon(page), spec
        assert got["isDone"] is done
        assert (got["continueCursor"] == "_end") is done
        pagination.cursor, pagination.position, pagination.done = got["continueCursor"], position, done

    @rule(data=st.data(), num_items=st.integers(1, 4))
    def start_pagination(self, data: Any, num_items: int) -> None:
        pagination = Pagination(resolved(data.draw(specs(arithmetic=False)), self.docs), num_items)
        self.page(pagination)
        self.paginations = [p for p in self.paginations[-3:] if not p.done] + [pagination]

    @precondition(lambda self: any(not p.done for p in getattr(self, "paginations", [])))
    @rule(pick=st.integers(0, 10), num_items=st.sampled_from([None, 1, 3]))
    def next_page(self, pick: int, num_items: int | None) -> None:
        """The next page of an open pagination, after whatever was written since its last page."""
        open_ones = [p for p in self.paginations if not p.done]
        pagination = open_ones[pick % len(open_ones)]
        if num_items is not None:
            pagination.num_items = num_items
        self.page(pagination)

    @rule(data=st.data(), num_items=st.integers(1, 3))
    def pagination_loop(self, data: Any, num_items: int) -> None:
        """Following continueCursor to the end visits each document of the query exactly once, in order."""
        spec = resolved(data.draw(specs(arithmetic=False)), self.docs)
        seen: list[dict[str, Any]] = []
        cursor = None
        for _ in range(len(self.docs) + 2):
            result = self.t.query(lambda ctx: spec.build(ctx).paginate({"numItems": num_items, "cursor": cursor}))
            seen.extend(result["page"])
            if result["isDone"]:
                break
            cursor = result["continueCursor"]
        else:
            pytest.fail("pagination never finished")
        collected = self.t.query(lambda ctx: spec.build(ctx).collect())
        assert canon(seen) == canon(collected)
        assert len({doc["_id"] for doc in seen}) == len(seen)


StoreMachine.TestCase.settings = settings(
    max_examples=30, stateful_step_count=25, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
TestStore = StoreMachine.TestCase
