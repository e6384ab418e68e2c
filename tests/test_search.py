"""Text search and vector search: schema checks, Convex's tokenizer and limits, BM25 relevance order
(to the bit against tantivy itself), filters, pagination, transactions, and ctx.vector_search."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from convex_py import UNSET, ConvexError, action, define_schema, define_table, mutation, query, v
from convex_py.errors import (
    IndexNotFoundError,
    InvalidQueryError,
    LimitExceededError,
    SchemaDefinitionError,
)
from emulator import ConvexEmulator
from emulator.search import tokenize

START = "2030-01-01T00:00:00Z"

SCHEMA = define_schema(
    {
        "messages": define_table(
            {
                "body": v.optional(v.union(v.string(), v.number())),
                "channel": v.optional(v.union(v.string(), v.null())),
                "n": v.optional(v.number()),
            }
        )
        .index("by_channel", ["channel"])
        .search_index("search_body", {"searchField": "body", "filterFields": ["channel", "n"]})
        .search_index("staged_body", {"searchField": "body", "filterFields": ["n"], "staged": True}),
        "docs": define_table(
            {"embedding": v.optional(v.array(v.float64())), "kind": v.optional(v.string()), "lang": v.optional(v.string())}
        ).vector_index("by_embedding", {"vectorField": "embedding", "dimensions": 3, "filterFields": ["kind", "lang"]}),
    }
)


def make() -> ConvexEmulator:
    return ConvexEmulator(schema=SCHEMA, start_time=START)


def insert_all(t: ConvexEmulator, rows: list[dict]) -> list:
    return t.run(lambda ctx: [ctx.db.insert("messages", row) for row in rows])


def search(t: ConvexEmulator, text: str, **eqs) -> list:
    def build(q):
        q = q.search("body", text)
        for field, value in eqs.items():
            q = q.eq(field, value)
        return q

    return [d["body"] for d in t.query(lambda ctx: ctx.db.query("messages").with_search_index("search_body", build).collect())]


# --- schema --------------------------------------------------------------------------------------------


def test_schema_records_search_and_vector_indexes() -> None:
    table = SCHEMA.tables["messages"]
    assert table.search_indexes["search_body"].search_field == "body"
    assert table.search_indexes["search_body"].filter_fields == ("channel", "n")
    assert table.search_indexes["staged_body"].staged is True
    vector = SCHEMA.tables["docs"].vector_indexes["by_embedding"]
    assert (vector.vector_field, vector.dimensions, vector.filter_fields) == ("embedding", 3, ("kind", "lang"))
    # camelCase spellings, as a port from TypeScript writes them
    table = define_table({"b": v.string()}).searchIndex("s", {"searchField": "b"})
    assert list(table.search_indexes) == ["s"]


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda: define_table({"e": v.array(v.float64())}).vector_index("e1", {"vectorField": "e", "dimensions": 1}),
         "Dimensions 1 must be between 2 and 4096."),
        (lambda: define_table({"e": v.array(v.float64())}).vector_index("e1", {"vectorField": "e", "dimensions": 4097}),
         "Dimensions 4097 must be between 2 and 4096."),
        (lambda: define_schema({"t": define_table({"b": v.string()}).search_index("s", {"searchField": "title"})}),
         'In table "t" the index "s" is invalid because it references the field "title" that does not exist.'),
        (lambda: define_schema({"t": define_table({"b": v.string()}).search_index(
            "s", {"searchField": "b", "filterFields": ["author"]})}),
         'In table "t" the index "s" is invalid because it references the field "author" that does not exist.'),
        (lambda: define_schema({"t": define_table({"b": v.string()}).vector_index("e", {"vectorField": "b", "dimensions": 2})}),
         'In table "t" the vector index "e" is invalid because it references the field "b" that is neither an array '
         "of float64 or optional array of float64."),
        (lambda: define_schema({"t": define_table({"b": v.string()}).index("s", ["b"]).search_index("s", {"searchField": "b"})}),
         "Duplicate index name 's'."),
        (lambda: define_schema({"t": define_table({"b": v.string()}).search_index("s", {"searchField": "b"}).index("s", ["b"])}),
         'Table "t" has two or more definitions of index "s".'),
        (lambda: define_schema({"t": define_table({"b": v.string()}).search_index("s1", {"searchField": "b"})
                                .search_index("s2", {"searchField": "b"})}),
         'In table "t" search index "s2" and search index "s1" have the same `searchField`.'),
        (lambda: define_table({"b": v.string()}).search_index("by_id", {"searchField": "b"}), "the name is reserved"),
        (lambda: define_table({"b": v.string()}).search_index("1s", {"searchField": "b"}), 'Invalid index name: "1s".'),
        (lambda: define_table({"b": v.string()}).search_index("s", {"filterFields": ["b"]}), "`searchField` is required"),
        (lambda: define_table({"b": v.string()}).search_index("s", {"searchField": "b", "filterField": []}),
         "unknown option(s) ['filterField']"),
        (lambda: define_table({"b": v.string()}).search_index(
            "s", {"searchField": "b", "filterFields": [f"f{i}" for i in range(17)]}),
         "Search indexes may have up to 16 filter fields."),
    ],
)
def test_schema_errors_use_convex_words(build, message) -> None:
    with pytest.raises(SchemaDefinitionError) as info:
        build()
    assert message in str(info.value)


def test_schema_without_validation_skips_field_checks() -> None:
    schema = define_schema({"t": define_table({"b": v.string()}).search_index("s", {"searchField": "title"})},
                           schema_validation=False)
    assert schema.tables["t"].search_indexes["s"].search_field == "title"


# --- tokenizer and limits -----------------------------------------------------------------------------


def test_tokenizer_is_convexs_simple_tokenizer_lowercased_with_long_terms_dropped() -> None:
    assert tokenize("Hello, WORLD! hello_world it's 3.14") == ["hello", "world", "hello", "world", "it", "s", "3", "14"]
    assert tokenize("Ünïcode ßtraße") == ["ünïcode", "ßtraße"]
    # RemoveLongFilter(32) counts UTF-8 bytes: 31 are kept, 32 are dropped.
    assert tokenize("a" * 31 + " " + "b" * 32) == ["a" * 31]
    assert tokenize("é" * 15 + "x " + "é" * 16) == ["é" * 15 + "x"]


def test_case_and_punctuation_are_ignored() -> None:
    t = make()
    insert_all(t, [{"body": "HELLO, World!"}, {"body": "goodbye"}])
    assert search(t, "hello world") == ["HELLO, World!"]
    assert search(t, "wOrLd...") == ["HELLO, World!"]


def test_bm25_order_by_hand() -> None:
    # avg length 2; K1*(1-B+B*len/avg) = 0.75 (len 1), 1.2 (len 2), 1.65 (len 3), so the tf factors
    # are 1/1.75 = .571 ("apple"), 2/3.65 = .548 ("apple apple pie"), 1/2.2 = .455 ("apple pie").
    t = make()
    insert_all(t, [{"body": "apple pie"}, {"body": "apple apple pie"}, {"body": "banana split"}, {"body": "apple"}])
    assert search(t, "apple") == ["apple", "apple apple pie", "apple pie"]


def test_a_document_matching_more_terms_ranks_higher() -> None:
    t = make()
    insert_all(t, [{"body": "red car"}, {"body": "red fast car"}, {"body": "fast bike"}, {"body": "blue boat"}])
    # "red car" and "fast bike" score the same (each one term of document frequency 2, same length):
    # the newer comes first.
    assert search(t, "fast car") == ["red fast car", "fast bike", "red car"]


def test_prefix_on_the_last_term_only_and_exact_beats_prefix() -> None:
    t = make()
    insert_all(t, [{"body": "rabbit hole"}, {"body": "send request"}, {"body": "rabbits"}, {"body": "hole in one"}])
    # "r" is the last term: a prefix of rabbit, rabbits, request.
    assert sorted(search(t, "r")) == ["rabbit hole", "rabbits", "send request"]
    # Not the last term: "rab" must match a whole term, and none is "rab"; "hole" is matched
    # exactly, and the shorter document scores higher.
    assert search(t, "rab hole") == ["rabbit hole", "hole in one"]
    # An exact match of the last term scores full weight, a prefix match half: same idf, same length.
    assert search(t, "rabbit") == ["rabbit hole", "rabbits"]


def test_equal_scores_return_the_newest_first() -> None:
    t = make()
    ids = insert_all(t, [{"body": "same words"}, {"body": "same words"}, {"body": "same words"}])
    found = t.query(lambda ctx: ctx.db.query("messages").with_search_index(
        "search_body", lambda q: q.search("body", "same")).collect())
    assert [d["_id"] for d in found] == ids[::-1]


def test_only_the_first_16_terms_count_and_the_16th_is_the_prefix() -> None:
    t = make()
    insert_all(t, [{"body": "zebra"}, {"body": "pterodactyl"}])
    filler = " ".join(f"x{i}" for i in range(15))
    assert search(t, filler + " pter") == ["pterodactyl"]
    assert search(t, filler + " q zebra") == []  # "zebra" is the 17th term: dropped


def test_long_terms_are_not_indexed() -> None:
    t = make()
    insert_all(t, [{"body": "a" * 31 + " short"}, {"body": "b" * 32 + " short"}])
    assert search(t, "a" * 31) == ["a" * 31 + " short"]
    assert search(t, "b" * 32) == []
    assert search(t, "b" * 5) == []


def test_prefix_expansion_stops_at_64_index_terms_in_term_order() -> None:
    t = make()
    insert_all(t, [{"body": f"ta{i:02d}"} for i in range(70)])
    found = search(t, "ta")
    assert sorted(found) == [f"ta{i:02d}" for i in range(64)]
    # An exact term and a filter value take a place each.
    t.run(lambda ctx: [ctx.db.patch(d["_id"], {"channel": "c"}) for d in ctx.db.query("messages").collect()])
    assert sorted(search(t, "ta05 ta", channel="c")) == [f"ta{i:02d}" for i in range(63)]


def test_non_string_values_and_empty_queries_match_nothing() -> None:
    t = make()
    insert_all(t, [{"body": 42}, {"body": "42 answers"}, {}])
    assert search(t, "42") == ["42 answers"]
    assert search(t, "") == []
    assert search(t, " ,.! ") == []


# --- scores: tantivy's BM25 to the bit -----------------------------------------------------------------


def test_scores_equal_tantivys_own_bm25_bit_for_bit() -> None:
    import random

    import numpy as np
    import tantivy

    rng = random.Random(5)
    words = [f"w{i}" for i in range(40)]
    texts = [" ".join(rng.choice(words) for _ in range(rng.choice([1, 2, 7, 39, 40, 41, 57, 130]))) for _ in range(150)]
    t = make()
    ids = insert_all(t, [{"body": text} for text in texts])
    index = t.store.tables["messages"].search_indexes["search_body"]

    builder = tantivy.SchemaBuilder()
    builder.add_text_field("body", tokenizer_name="convex_en")
    builder.add_integer_field("n", stored=True, indexed=False)
    ti = tantivy.Index(builder.build())
    ti.register_tokenizer("convex_en", tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
                          .filter(tantivy.Filter.remove_long(32)).filter(tantivy.Filter.lowercase()).build())
    writer = ti.writer(15_000_000, 1)
    for i, text in enumerate(texts):
        writer.add_document(tantivy.Document(body=text, n=i))
    writer.commit()
    writer.wait_merging_threads()
    ti.reload()
    searcher = ti.searcher()
    position = {doc_id: i for i, doc_id in enumerate(ids)}
    compared = 0
    for word in words:
        theirs = {searcher.doc(a)["n"][0]: np.float32(s) for s, a in searcher.search(ti.parse_query(word, ["body"]), 500).hits}
        # "~" is not a term: `word` is then matched exactly, not as a prefix of w10, w11, ...
        ours = {position[doc_id]: np.float32(-key[0]) for key, doc_id in index.search([word, "~"], [])}
        assert ours == theirs
        compared += len(ours)
    assert compared > 1000


# --- filters ------------------------------------------------------------------------------------------


def test_eq_filters_missing_versus_null_and_numbers() -> None:
    t = make()
    insert_all(t, [
        {"body": "hi one", "channel": "a", "n": 1},
        {"body": "hi two", "channel": "b", "n": 2.5},
        {"body": "hi three", "channel": None},
        {"body": "hi four"},
    ])
    assert search(t, "hi", channel="a") == ["hi one"]
    assert search(t, "hi", channel=None) == ["hi three"]
    assert search(t, "hi", channel=UNSET) == ["hi four"]
    assert search(t, "hi", n=1) == ["hi one"]  # a Python int against a v.number() field means the number
    assert search(t, "hi", n=2.5, channel="b") == ["hi two"]
    assert search(t, "hi", channel="a", n=2.5) == []
    assert search(t, "hi", channel="zzz") == []
    # eq with no value: the field is missing, as `q.eq("channel", undefined)` in Convex
    found = t.query(lambda ctx: ctx.db.query("messages").with_search_index(
        "search_body", lambda q: q.search("body", "hi").eq("channel")).collect())
    assert [d["body"] for d in found] == ["hi four"]


def test_filter_after_the_search_and_reads_counted() -> None:
    t = make()
    insert_all(t, [{"body": "hi", "n": i} for i in range(5)])
    found = t.query(lambda ctx: ctx.db.query("messages").with_search_index(
        "search_body", lambda q: q.search("body", "hi")).filter(lambda q: q.gte(q.field("n"), 3)).collect())
    assert [d["n"] for d in found] == [4, 3]


@pytest.mark.parametrize(
    "build, error, message",
    [
        (lambda q: q.search("channel", "x"), InvalidQueryError,
         'Search query against messages.search_body contains a search filter against "channel", which doesn\'t '
         'match the indexed `searchField` "body".'),
        (lambda q: q.search("body", "x").eq("author", "a"), InvalidQueryError,
         'Search query against messages.search_body contains an equality filter on "author" but that field isn\'t '
         "indexed for filtering in `filterFields`."),
        (lambda q: q.eq("channel", "a"), InvalidQueryError,
         "Search query against messages.search_body does not contain any search filters. You must include a search "
         'filter like `q.search("body", searchText)`.'),
        (lambda q: q.search("body", "x").search("body", "y"), InvalidQueryError,
         'Search query against messages.search_body contains multiple search filters against "body". Only one is '
         "allowed."),
        (lambda q: _nine_filters(q.search("body", "x")), InvalidQueryError,
         "Search query against messages.search_body has too many filter conditions. Max: 8 Actual: 9"),
        (lambda q: None, InvalidQueryError, "must return the builder"),
        (lambda q: (q.search("body", "x"), q.search("body", "y"))[1], InvalidQueryError,
         "SearchFilterBuilder has already been used!"),
    ],
)
def test_search_filter_errors(build, error, message) -> None:
    t = make()
    with pytest.raises(error) as info:
        t.query(lambda ctx: ctx.db.query("messages").with_search_index("search_body", build).collect())
    assert message in str(info.value)


def _nine_filters(q):
    for i in range(9):
        q = q.eq("n", i)
    return q


def test_index_kind_errors() -> None:
    t = make()
    run = t.query
    with pytest.raises(InvalidQueryError, match=r"^Index messages.by_channel is not a search index$"):
        run(lambda ctx: ctx.db.query("messages").with_search_index("by_channel", lambda q: q.search("body", "x")).collect())
    with pytest.raises(InvalidQueryError, match=r"^Index messages.search_body is not a database index$"):
        run(lambda ctx: ctx.db.query("messages").with_index("search_body").collect())
    with pytest.raises(IndexNotFoundError, match=r"^Index messages.nope not found.$"):
        run(lambda ctx: ctx.db.query("messages").with_search_index("nope", lambda q: q.search("body", "x")).collect())
    with pytest.raises(IndexNotFoundError, match="Index messages.staged_body is currently staged and not available to "
                                                 "query until it is enabled."):
        run(lambda ctx: ctx.db.query("messages").with_search_index("staged_body", lambda q: q.search("body", "x")).collect())
    with pytest.raises(InvalidQueryError, match="always returns results in relevance order"):
        run(lambda ctx: ctx.db.query("messages").with_search_index(
            "search_body", lambda q: q.search("body", "x")).order("desc").collect())
    with pytest.raises(InvalidQueryError, match="with_search_index must come before filter"):
        run(lambda ctx: ctx.db.query("messages").filter(lambda q: True).with_search_index(
            "search_body", lambda q: q.search("body", "x")))


# --- take / first / unique / paginate and the 1024 cap -------------------------------------------------


def test_take_first_unique_and_async() -> None:
    t = make()
    insert_all(t, [{"body": "alpha beta"}, {"body": "alpha"}, {"body": "gamma"}])

    def q(ctx):
        return ctx.db.query("messages").with_search_index("search_body", lambda q: q.search("body", "alpha"))

    assert [d["body"] for d in t.query(lambda ctx: q(ctx).take(1))] == ["alpha"]
    assert t.query(lambda ctx: q(ctx).first())["body"] == "alpha"
    assert t.query(lambda ctx: ctx.db.query("messages").with_search_index(
        "search_body", lambda q: q.search("body", "gamma")).unique())["body"] == "gamma"

    @query
    async def async_search(ctx, args):
        docs = await ctx.db.query("messages").withSearchIndex("search_body", lambda q: q.search("body", "alpha")).collect()
        return [d["body"] for d in docs]

    t2 = ConvexEmulator(schema=SCHEMA, modules={"m": {"s": async_search}}, start_time=START)
    insert_all(t2, [{"body": "alpha beta"}, {"body": "alpha"}])
    assert t2.query("m:s") == ["alpha", "alpha beta"]


def test_paginate_walks_relevance_order() -> None:
    t = make()
    insert_all(t, [{"body": " ".join(["word"] * k + ["pad"] * (10 - k))} for k in range(1, 8)])

    def page(cursor):
        return t.query(lambda ctx: ctx.db.query("messages").with_search_index(
            "search_body", lambda q: q.search("body", "word")).paginate({"numItems": 3, "cursor": cursor}))

    seen, cursor, done = [], None, False
    while not done:
        result = page(cursor)
        seen.append([d["body"].count("word") for d in result["page"]])
        cursor, done = result["continueCursor"], result["isDone"]
    assert seen == [[7, 6, 5], [4, 3, 2], [1]]


def test_at_most_1024_results() -> None:
    t = make()
    t.run(lambda ctx: [ctx.db.insert("messages", {"body": "many"}) for _ in range(1100)])

    def q(ctx):
        return ctx.db.query("messages").with_search_index("search_body", lambda q: q.search("body", "many"))

    assert len(t.query(lambda ctx: q(ctx).take(1024))) == 1024
    with pytest.raises(LimitExceededError, match=r"Search query scanned too many documents \(fetched 1024\)"):
        t.query(lambda ctx: q(ctx).collect())
    pages, cursor = 0, None
    total = 0
    while True:
        result = t.query(lambda ctx: q(ctx).paginate({"numItems": 500, "cursor": cursor}))
        total += len(result["page"])
        pages += 1
        cursor = result["continueCursor"]
        if result["isDone"]:
            break
    assert (total, pages) == (1024, 3)


# --- transactions: own writes, rollbacks, updates ----------------------------------------------------------


@mutation
def insert_and_search(ctx, args):
    ctx.db.insert("messages", {"body": args["body"]})
    found = ctx.db.query("messages").with_search_index("search_body", lambda q: q.search("body", args["body"])).collect()
    if args.get("fail"):
        raise ConvexError("rolled back")
    return [d["body"] for d in found]


@mutation
def nested(ctx, args):
    try:
        ctx.run_mutation("m:insert_and_search", {"body": "inner", "fail": True})
    except ConvexError:
        pass
    return [d["body"] for d in ctx.db.query("messages").with_search_index(
        "search_body", lambda q: q.search("body", "inner")).collect()]


def test_a_mutation_sees_its_own_writes_and_rollbacks_never_show() -> None:
    t = ConvexEmulator(schema=SCHEMA, modules={"m": {"insert_and_search": insert_and_search, "nested": nested}},
                       start_time=START)
    assert t.mutation("m:insert_and_search", {"body": "fresh"}) == ["fresh"]
    with pytest.raises(ConvexError):
        t.mutation("m:insert_and_search", {"body": "ghost", "fail": True})
    assert search(t, "ghost") == []
    assert t.mutation("m:nested") == []
    assert search(t, "inner") == []
    assert search(t, "fresh") == ["fresh"]


def test_patch_replace_and_delete_update_the_index() -> None:
    t = make()
    a, b = insert_all(t, [{"body": "old words", "channel": "x"}, {"body": "other"}])
    t.run(lambda ctx: ctx.db.patch(a, {"body": "new words"}))
    assert search(t, "old") == []
    assert search(t, "new") == ["new words"]
    t.run(lambda ctx: ctx.db.patch(a, {"channel": "y"}))
    assert search(t, "words", channel="x") == []
    assert search(t, "words", channel="y") == ["new words"]
    t.run(lambda ctx: ctx.db.replace(b, {"body": "replaced words"}))
    assert sorted(search(t, "words")) == ["new words", "replaced words"]
    t.run(lambda ctx: ctx.db.delete(a))
    assert search(t, "words") == ["replaced words"]


def test_many_deletes_compact_the_index_and_keep_results() -> None:
    t = make()
    ids = t.run(lambda ctx: [ctx.db.insert("messages", {"body": f"item {i}", "n": i}) for i in range(3000)])
    t.run(lambda ctx: [ctx.db.delete(i) for i in ids[:2500]])
    found = t.query(lambda ctx: ctx.db.query("messages").with_search_index(
        "search_body", lambda q: q.search("body", "item").eq("n", 2999)).collect())
    assert [d["n"] for d in found] == [2999]
    assert len(t.query(lambda ctx: ctx.db.query("messages").with_search_index(
        "search_body", lambda q: q.search("body", "item")).take(600))) == 500


# --- the property: the result set is the model's -----------------------------------------------------------

_ALPHABET = "abcAB é_-.,!'0 "


def _model_tokens(text: str) -> list[str]:
    # Tantivy's SimpleTokenizer keeps runs of alphanumeric characters ('_' is not one), then terms of
    # 32 UTF-8 bytes or more are dropped, then the rest lowercased.
    return [t.lower() for t in re.findall(r"[^\W_]+", text) if len(t.encode()) < 32]


def _model_search(docs: dict, text: str, channel) -> set:
    terms = _model_tokens(text)[:16]
    if not terms:
        return set()
    vocabulary = sorted({t for body, _ in docs.values() if isinstance(body, str) for t in _model_tokens(body)})
    exact = {t for t in terms if t in vocabulary}
    filters = 0 if channel is None else 1
    if channel is not None and not any(c == channel for _, c in docs.values()):
        return set()
    prefix = [t for t in vocabulary if t.startswith(terms[-1]) and t not in exact][: 64 - len(exact) - filters]
    wanted = exact | set(prefix)
    return {doc_id for doc_id, (body, c) in docs.items()
            if isinstance(body, str) and wanted & set(_model_tokens(body)) and (channel is None or c == channel)}


_bodies = st.one_of(st.text(_ALPHABET, max_size=30), st.integers(0, 3))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(st.tuples(_bodies, st.sampled_from(["x", "y"])), max_size=25),
    deletes=st.sets(st.integers(0, 24), max_size=6),
    patches=st.lists(st.tuples(st.integers(0, 24), _bodies), max_size=5),
    ghost=st.text(_ALPHABET, max_size=20),
    text=st.text(_ALPHABET, max_size=12),
    channel=st.sampled_from([None, "x", "y"]),
)
def test_search_results_match_a_plain_model(rows, deletes, patches, ghost, text, channel) -> None:
    t = make()
    ids = insert_all(t, [{"body": body, "channel": c} for body, c in rows])
    model = {doc_id: (body, c) for doc_id, (body, c) in zip(ids, rows)}
    for position, body in patches:
        if position < len(ids) and ids[position] in model:
            t.run(lambda ctx: ctx.db.patch(ids[position], {"body": body}))
            model[ids[position]] = (body, model[ids[position]][1])
    for position in deletes:
        if position < len(ids) and ids[position] in model:
            t.run(lambda ctx: ctx.db.delete(ids[position]))
            del model[ids[position]]

    def rolled_back(ctx):
        ctx.db.insert("messages", {"body": ghost, "channel": "x"})
        raise ConvexError("no")

    with pytest.raises(ConvexError):
        t.run(rolled_back)

    def build(q):
        q = q.search("body", text)
        return q if channel is None else q.eq("channel", channel)

    found = t.query(lambda ctx: ctx.db.query("messages").with_search_index("search_body", build).collect())
    assert {d["_id"] for d in found} == _model_search(model, text, channel)


# --- vector search ---------------------------------------------------------------------------------------


def _vector_app(fn) -> ConvexEmulator:
    t = ConvexEmulator(schema=SCHEMA, modules={"v": {"go": action(fn)}}, start_time=START)
    return t


def _seed_vectors(t: ConvexEmulator) -> list:
    rows = [
        {"embedding": [1.0, 0.0, 0.0], "kind": "a", "lang": "en"},
        {"embedding": [1.0, 1.0, 0.0], "kind": "b", "lang": "en"},
        {"embedding": [0.0, 1.0, 0.0], "kind": "a", "lang": "fr"},
        {"embedding": [-1.0, 0.0, 0.0], "kind": "b"},
        {"embedding": [1.0, 2.0], "kind": "a"},  # wrong length: not indexed
        {"kind": "a"},  # no vector: not indexed
    ]
    return t.run(lambda ctx: [ctx.db.insert("docs", row) for row in rows])


def test_vector_search_orders_by_cosine_similarity() -> None:
    t = _vector_app(lambda ctx, args: ctx.vector_search("docs", "by_embedding", {"vector": [2.0, 0.0, 0.0]}))
    ids = _seed_vectors(t)
    results = t.action("v:go")
    assert [r["_id"] for r in results] == [ids[0], ids[1], ids[2], ids[3]]
    assert [r["_score"] for r in results] == [1.0, pytest.approx(1 / math.sqrt(2), abs=1e-7), 0.0, -1.0]


def test_vector_search_filters_limit_and_async() -> None:
    seen = {}

    async def go(ctx, args):
        q = {"vector": [0.0, 1.0, 0.0]}
        seen["a"] = await ctx.vector_search("docs", "by_embedding", {**q, "filter": lambda f: f.eq("kind", "a")})
        seen["or"] = await ctx.vectorSearch("docs", "by_embedding", {
            **q, "filter": lambda f: f.or_(f.eq("kind", "b"), f.eq("lang", "fr"))})
        seen["missing"] = await ctx.vector_search("docs", "by_embedding", {**q, "filter": lambda f: f.eq("lang")})
        seen["limit"] = await ctx.vector_search("docs", "by_embedding", {**q, "limit": 1})
        return None

    t = _vector_app(go)
    ids = _seed_vectors(t)
    t.action("v:go")
    assert [r["_id"] for r in seen["a"]] == [ids[2], ids[0]]
    assert [r["_id"] for r in seen["or"]] == [ids[2], ids[1], ids[3]]
    assert [r["_id"] for r in seen["missing"]] == [ids[3]]
    assert [r["_id"] for r in seen["limit"]] == [ids[2]]


def test_vector_search_default_limit_ties_and_writes() -> None:
    t = _vector_app(lambda ctx, args: ctx.vector_search("docs", "by_embedding", {"vector": [0.0, 0.0, 1.0]}))
    ids = t.run(lambda ctx: [ctx.db.insert("docs", {"embedding": [0.0, 0.0, 1.0]}) for _ in range(12)])
    results = t.action("v:go")
    # Ten by default; equal scores go by document id, highest first.
    assert [r["_id"] for r in results] == sorted(ids, reverse=True)[:10]
    t.run(lambda ctx: [ctx.db.delete(i) for i in ids[1:]])
    t.run(lambda ctx: ctx.db.patch(ids[0], {"embedding": [0.0, 1.0, 1.0]}))
    assert t.action("v:go") == [{"_id": ids[0], "_score": pytest.approx(1 / math.sqrt(2), abs=1e-7)}]


@pytest.mark.parametrize(
    "spec, message",
    [
        ({"vector": [1.0, 0.0]}, "Expected a vector with dimensions 3, received 2."),
        ({"vector": []}, "`vector` must be a non-empty Array in vectorSearch"),
        ({"limit": 5}, "`vector` must be a non-empty Array in vectorSearch"),
        ({"vector": [1.0, 0.0, 0.0], "limit": 257}, "Vector queries can fetch at most 256 results, requested 257."),
        ({"vector": [1.0, 0.0, 0.0], "limit": 0}, "`limit` must be a whole number from 1 to 256"),
        ({"vector": [1.0, 0.0, 0.0], "filter": lambda q: q.eq("other", 1)},
         'Vector query against docs.by_embedding contains a filter on "other" but that field isn\'t indexed for '
         "filtering in `filterFields`."),
        ({"vector": [1.0, 0.0, 0.0], "filter": lambda q: True}, "Filters should be a combination of `q.eq` and `q.or`."),
        ({"vector": [1.0, 0.0, 0.0], "filter": lambda q: q.or_(*[q.eq("kind", str(i)) for i in range(65)])},
         "Vector query against docs.by_embedding has too many conditions. Max: 64 Actual: 65"),
    ],
)
def test_vector_search_errors(spec, message) -> None:
    t = _vector_app(lambda ctx, args: ctx.vector_search("docs", "by_embedding", spec))
    with pytest.raises(InvalidQueryError) as info:
        t.action("v:go")
    assert message in str(info.value)


def test_vector_search_index_errors_and_only_in_actions() -> None:
    t = _vector_app(lambda ctx, args: ctx.vector_search("messages", args["index"], {"vector": [1.0, 0.0, 0.0]}))
    with pytest.raises(InvalidQueryError, match=r"^Index messages.search_body is not a vector index$"):
        t.action("v:go", {"index": "search_body"})
    with pytest.raises(IndexNotFoundError, match=r"^Index messages.nope not found.$"):
        t.action("v:go", {"index": "nope"})
    with pytest.raises(AttributeError, match="ctx.vector_search is not available in a query"):
        t.query(lambda ctx: ctx.vector_search("docs", "by_embedding", {"vector": [1.0, 0.0, 0.0]}))
