"""Search and vector index definitions of a table (`.search_index`, `.vector_index`) and
their checks, with Convex's limits and error texts (crates/common/src/schemas in convex-backend).
"""

from __future__ import annotations

import re
from typing import Any, Protocol

from ._validators import concrete_validators
from .errors import SchemaDefinitionError

__all__ = [
    "MAX_FILTER_FIELDS",
    "MAX_VECTOR_DIMENSIONS",
    "MIN_VECTOR_DIMENSIONS",
    "SearchIndexDefinition",
    "VectorIndexDefinition",
    "check_table_indexes",
    "define_search_index",
    "define_vector_index",
]


class TableLike(Protocol):
    """What these checks read of a table definition (`convex_py._schema.TableDefinition`, which imports this module)."""

    validator: Any
    indexes: dict[str, Any]
    staged_indexes: dict[str, Any]
    search_indexes: dict[str, Any]
    vector_indexes: dict[str, Any]


# Convex: MAX_TEXT_INDEX_FILTER_FIELDS_SIZE / MAX_VECTOR_INDEX_FILTER_FIELDS_SIZE (bootstrap_model/index/mod.rs).
MAX_FILTER_FIELDS = 16
# Convex: MIN_VECTOR_DIMENSIONS / MAX_VECTOR_DIMENSIONS (bootstrap_model/index/vector_index/dimensions.rs).
MIN_VECTOR_DIMENSIONS = 2
MAX_VECTOR_DIMENSIONS = 4096

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FIELD_PART = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED = ("by_id", "by_creation_time")


class SearchIndexDefinition:
    """A full text search index: one string field searched, optional equality filter fields."""

    __slots__ = ("name", "search_field", "filter_fields", "staged")

    def __init__(self, name: str, search_field: str, filter_fields: tuple[str, ...], staged: bool) -> None:
        self.name = name
        self.search_field = search_field
        self.filter_fields = filter_fields
        self.staged = staged

    def __repr__(self) -> str:
        return (f"search_index({self.name!r}, searchField={self.search_field!r}, "
                f"filterFields={list(self.filter_fields)!r}, staged={self.staged!r})")


class VectorIndexDefinition:
    """A vector index: an array-of-float64 field of fixed length, optional filter fields."""

    __slots__ = ("name", "vector_field", "dimensions", "filter_fields", "staged")

    def __init__(self, name: str, vector_field: str, dimensions: int, filter_fields: tuple[str, ...],
                 staged: bool) -> None:
        self.name = name
        self.vector_field = vector_field
        self.dimensions = dimensions
        self.filter_fields = filter_fields
        self.staged = staged

    def __repr__(self) -> str:
        return (f"vector_index({self.name!r}, vectorField={self.vector_field!r}, dimensions={self.dimensions!r}, "
                f"filterFields={list(self.filter_fields)!r}, staged={self.staged!r})")


# --- definition time: one index at a time --------------------------------------------------------------


def _check_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not _IDENTIFIER.match(name) or len(name) > 64:
        raise SchemaDefinitionError(
            f"Invalid index name: \"{name}\". Identifiers must be 64 characters or less, start with a letter, "
            "and only contain letters, digits, underscores."
        )
    if name in _RESERVED:
        raise SchemaDefinitionError(
            f"{what} {name!r}: cannot name an index \"{name}\" because the name is reserved. Indexes may not "
            "start with an underscore or be named \"by_id\" or \"by_creation_time\"."
        )
    return name


def _check_field(index: str, field: Any, option: str) -> str:
    if not isinstance(field, str) or not field or not all(_FIELD_PART.match(p) for p in field.split(".")):
        raise SchemaDefinitionError(f"In index \"{index}\": Invalid index field: \"{field}\" (`{option}`)")
    return field


def _config(name: str, config: Any, what: str, allowed: tuple[str, ...], required: str) -> dict[str, Any]:
    if not isinstance(config, dict):
        raise SchemaDefinitionError(
            f"{what} {name!r}: the second argument must be a dict like "
            f"{{\"{required}\": \"field\", \"filterFields\": [...]}}, got {config!r}"
        )
    unknown = sorted(set(config) - set(allowed))
    if unknown:
        raise SchemaDefinitionError(
            f"{what} {name!r}: unknown option(s) {unknown}; the options are {', '.join(allowed)}."
        )
    if required not in config:
        raise SchemaDefinitionError(f"{what} {name!r}: `{required}` is required.")
    return config


def _filter_fields(name: str, config: dict[str, Any]) -> tuple[str, ...]:
    fields = config.get("filterFields", [])
    if isinstance(fields, str) or not isinstance(fields, (list, tuple)):
        raise SchemaDefinitionError(
            f"In index \"{name}\": `filterFields` must be a list of field names, got {fields!r}"
        )
    checked = tuple(_check_field(name, f, "filterFields") for f in fields)
    if len(set(checked)) > MAX_FILTER_FIELDS:
        raise SchemaDefinitionError(f"Search indexes may have up to {MAX_FILTER_FIELDS} filter fields.")
    # Convex keeps filter fields as a set: a field listed twice counts once.
    return tuple(dict.fromkeys(checked))


def _staged(name: str, config: dict[str, Any]) -> bool:
    staged = config.get("staged", False)
    if type(staged) is not bool:
        raise SchemaDefinitionError(f"In index \"{name}\": `staged` must be True or False, got {staged!r}")
    return staged


def _taken(table: TableLike, name: str) -> None:
    if name in table.indexes or name in table.search_indexes or name in table.vector_indexes:
        raise SchemaDefinitionError(f"Duplicate index name {name!r}.")


def define_search_index(table: TableLike, name: Any, config: Any) -> SearchIndexDefinition:
    """Check one `.search_index(name, {"searchField", "filterFields", "staged"})` and record it."""
    name = _check_name(name, "search_index")
    config = _config(name, config, "search_index", ("searchField", "filterFields", "staged"), "searchField")
    _taken(table, name)
    definition = SearchIndexDefinition(
        name, _check_field(name, config["searchField"], "searchField"), _filter_fields(name, config),
        _staged(name, config),
    )
    table.search_indexes[name] = definition
    return definition


def define_vector_index(table: TableLike, name: Any, config: Any) -> VectorIndexDefinition:
    """Check one `.vector_index(name, {"vectorField", "dimensions", "filterFields", "staged"})` and record it."""
    name = _check_name(name, "vector_index")
    config = _config(name, config, "vector_index", ("vectorField", "dimensions", "filterFields", "staged"),
                     "vectorField")
    if "dimensions" not in config:
        raise SchemaDefinitionError(f"vector_index {name!r}: `dimensions` is required.")
    dimensions = config["dimensions"]
    if type(dimensions) is float and dimensions.is_integer():
        dimensions = int(dimensions)
    if type(dimensions) is not int:
        raise SchemaDefinitionError(
            f"vector_index {name!r}: `dimensions` must be a whole number, got {dimensions!r}"
        )
    if not MIN_VECTOR_DIMENSIONS <= dimensions <= MAX_VECTOR_DIMENSIONS:
        raise SchemaDefinitionError(
            f"Dimensions {dimensions} must be between {MIN_VECTOR_DIMENSIONS} and {MAX_VECTOR_DIMENSIONS}."
        )
    _taken(table, name)
    definition = VectorIndexDefinition(
        name, _check_field(name, config["vectorField"], "vectorField"), dimensions, _filter_fields(name, config),
        _staged(name, config),
    )
    table.vector_indexes[name] = definition
    return definition


# --- schema time: a whole table, with its name ------------------------------------------------------


def _at_path(validator: Any, parts: list[str]) -> list[Any] | None:
    """What the field at `parts` may hold; None when any value may be there (v.any(), records, models)."""
    from ._validators import AnyValidator, ObjectValidator

    nodes = concrete_validators(validator)
    for part in parts:
        nxt = []
        for node in nodes:
            if isinstance(node, ObjectValidator):
                if part in node.fields:
                    nxt.extend(concrete_validators(node.fields[part]))
            elif isinstance(node, AnyValidator) or not _is_plain(node):
                return None
        nodes = nxt
    if any(isinstance(n, AnyValidator) or not _is_plain(n) for n in nodes):
        return None
    return nodes


def _is_plain(node: Any) -> bool:
    """A validator whose shape is known here (not a record, a pydantic model, ...)."""
    from . import _validators as V

    known = (V.IdValidator, V.NullValidator, V.NumberValidator, V.Int64Validator, V.BooleanValidator,
             V.StringValidator, V.BytesValidator, V.AnyValidator, V.LiteralValidator, V.ArrayValidator,
             V.ObjectValidator)
    return isinstance(node, known)


def _can_contain(validator: Any, field: str) -> bool:
    if "." not in field and field.startswith("_"):
        return True  # system fields
    nodes = _at_path(validator, field.split("."))
    return nodes is None or bool(nodes)


def _may_be_float_array(validator: Any, field: str) -> bool:
    from ._validators import AnyValidator, ArrayValidator, NumberValidator

    nodes = _at_path(validator, field.split("."))
    if nodes is None:
        return True
    for node in nodes:
        if isinstance(node, ArrayValidator):
            items = concrete_validators(node.item)
            if any(isinstance(i, (NumberValidator, AnyValidator)) for i in items):
                return True
    return False


def check_table_indexes(table_name: str, table: TableLike, schema_validation: bool) -> None:
    """Convex's push-time checks on a table's search and vector indexes (names, uniqueness, fields)."""
    names = [*table.indexes, *table.staged_indexes, *table.search_indexes, *table.vector_indexes]
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise SchemaDefinitionError(f"Table \"{table_name}\" has two or more definitions of index \"{name}\".")
        seen.add(name)
    by_fields: dict[Any, str] = {}
    for name in sorted(table.search_indexes):
        d = table.search_indexes[name]
        other = by_fields.setdefault((d.search_field, frozenset(d.filter_fields)), name)
        if other != name:
            raise SchemaDefinitionError(
                f"In table \"{table_name}\" search index \"{name}\" and search index \"{other}\" have the same "
                "`searchField`. Search index fields must be unique within a table. You should combine the "
                "indexes with the same `searchField` into one index containing all `filterField`s and then use "
                "different subsets of the `filterField`s at query time."
            )
    by_fields = {}
    for name in sorted(table.vector_indexes):
        d = table.vector_indexes[name]
        other = by_fields.setdefault((d.vector_field, d.dimensions), name)
        if other != name:
            raise SchemaDefinitionError(
                f"In table \"{table_name}\" vector index \"{name}\" and vector index \"{other}\" have the same "
                "`vectorField`. Vector index fields must be unique within a table. You should combine the "
                "indexes with the same `vectorField` into one index containing all `filterField`s and then use "
                "different subsets of the `filterField`s at query time."
            )
    if not schema_validation:
        return
    validator = table.validator
    for name, d in list(table.search_indexes.items()) + list(table.vector_indexes.items()):
        main = d.search_field if isinstance(d, SearchIndexDefinition) else d.vector_field
        for field in (main, *d.filter_fields):
            if not _can_contain(validator, field):
                raise SchemaDefinitionError(
                    f"In table \"{table_name}\" the index \"{name}\" is invalid because it references the field "
                    f"\"{field}\" that does not exist."
                )
    for name, d in table.vector_indexes.items():
        if not _may_be_float_array(validator, d.vector_field):
            raise SchemaDefinitionError(
                f"In table \"{table_name}\" the vector index \"{name}\" is invalid because it references the "
                f"field \"{d.vector_field}\" that is neither an array of float64 or optional array of float64."
            )
