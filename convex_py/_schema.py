"""`define_schema` and `define_table`: tables, their document validators and indexes."""

from __future__ import annotations

import re
from typing import Any

from ._search_indexes import (
    SearchIndexDefinition,
    VectorIndexDefinition,
    check_table_indexes,
    define_search_index,
    define_vector_index,
)
from ._validators import Validator, to_validator
from .errors import SchemaDefinitionError

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_INDEX_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED_INDEXES = ("by_id", "by_creation_time")
MAX_IDENTIFIER_LENGTH = 64
SYSTEM_FIELDS = ("_id", "_creationTime")
_IDENTIFIER_RULE = "Identifiers must start with a letter and can only contain letters, digits, and underscores."


def identifier_problem(name: str) -> str | None:
    """What is wrong with `name` as a Convex identifier (a table or schema field name), in Convex's words."""
    if _IDENTIFIER.match(name) and len(name) <= MAX_IDENTIFIER_LENGTH and name.strip("_"):
        return None
    if not name:
        return "Identifier cannot be empty"
    if not (name[0].isascii() and name[0].isalpha()) and name[0] != "_":
        return (f"Invalid first character {name[0]!r} in {name}: Identifiers must start with an alphabetic "
                "character or underscore")
    for char in name:
        if not (char.isascii() and char.isalnum()) and char != "_":
            return (f"Identifier {name} has invalid character {char!r}: Identifiers can only contain "
                    "alphanumeric characters or underscores")
    if len(name) > MAX_IDENTIFIER_LENGTH:
        return f"Identifier is too long ({len(name)} > maximum {MAX_IDENTIFIER_LENGTH})"
    return f"Identifier {name} cannot have exclusively underscores"


def check_table_name(name: Any) -> None:
    """Raise unless `name` is a valid user table name: an identifier not starting with `_`."""
    if not isinstance(name, str):
        raise SchemaDefinitionError(f"Invalid table name: {name!r}. Table names are strings. {_IDENTIFIER_RULE}")
    problem = identifier_problem(name)
    if problem is not None:
        raise SchemaDefinitionError(f"Invalid table name: \"{name}\". {_IDENTIFIER_RULE} ({problem})")
    if name.startswith("_"):
        raise SchemaDefinitionError(f"{name} is a reserved table name. (Names starting with '_' are for system tables.)")


def _check_field_names(validator: Validator, path: str, top_level: bool) -> Validator:
    """Check the object field names a table's validator declares; drop top-level `_id`/`_creationTime`.

    Convex's schema fields are identifiers; a top-level field starting with `_` is a system field,
    and Convex ignores validators of `_id` and `_creationTime` in a table's document.
    """
    from ._validators import ArrayValidator, ObjectValidator, OptionalValidator, RecordValidator, UnionValidator

    if isinstance(validator, ObjectValidator):
        kept = {}
        for name, field in validator.fields.items():
            where = f"{path}.{name}" if path else name
            problem = identifier_problem(name)
            if problem is not None:
                raise SchemaDefinitionError(f"Invalid field name `{where}` in define_table(...): {problem}")
            if top_level and name.startswith("_"):
                if name in SYSTEM_FIELDS:
                    continue
                raise SchemaDefinitionError(
                    f"Invalid field name `{name}` in define_table(...): top-level field names starting with '_' "
                    "are reserved for system fields (_id, _creationTime)."
                )
            _check_field_names(field, where, False)
            kept[name] = field
        if len(kept) != len(validator.fields):
            return ObjectValidator(kept)
    elif isinstance(validator, UnionValidator):
        members = [_check_field_names(member, path, top_level) for member in validator.members]
        if any(new is not old for new, old in zip(members, validator.members)):
            return UnionValidator(*members)
    elif isinstance(validator, OptionalValidator):
        _check_field_names(validator.inner, path, top_level)
    elif isinstance(validator, ArrayValidator):
        _check_field_names(validator.item, f"{path}[]", False)
    elif isinstance(validator, RecordValidator):
        _check_field_names(validator.values, f"{path}[key]", False)
    return validator


class TableDefinition:
    """A table: the validator its documents must match, and its indexes (staged ones apart)."""

    def __init__(self, document: Any) -> None:
        self.validator: Validator = _check_field_names(to_validator(document), "", True)
        self.indexes: dict[str, tuple[str, ...]] = {}
        self.search_indexes: dict[str, SearchIndexDefinition] = {}
        self.vector_indexes: dict[str, VectorIndexDefinition] = {}
        self.staged_indexes: dict[str, tuple[str, ...]] = {}

    def index(self, name: str, fields: Any) -> "TableDefinition":
        """Declare an index over `fields` (ordered by them, then `_creationTime`).

        `fields` is a list of field names, or Convex's `{"fields": [...], "staged": True}`: a
        staged index is declared but not enabled, so it cannot be queried yet.
        """
        if not isinstance(name, str) or not _INDEX_NAME.match(name):
            raise SchemaDefinitionError(f"Invalid index name {name!r}: use letters, digits and underscores.")
        if name in RESERVED_INDEXES:
            raise SchemaDefinitionError(f"Index name {name!r} is reserved: every table already has it.")
        if name in self.indexes or name in self.staged_indexes:
            raise SchemaDefinitionError(f"Duplicate index name {name!r}.")
        staged = False
        if isinstance(fields, dict):
            unknown = sorted(set(fields) - {"fields", "staged"})
            if unknown or "fields" not in fields:
                raise SchemaDefinitionError(
                    f"Index {name!r}: the config is {{\"fields\": [...], \"staged\": True/False}}, got {fields!r}."
                )
            staged = fields.get("staged", False)
            if not isinstance(staged, bool):
                raise SchemaDefinitionError(f"Index {name!r}: \"staged\" must be True or False, got {staged!r}.")
            fields = fields["fields"]
        if isinstance(fields, str):
            raise SchemaDefinitionError(f"Index {name!r}: fields must be a list of field names, not a string.")
        field_list = tuple(fields)
        if not field_list:
            raise SchemaDefinitionError(f"Index {name!r} must have at least one field.")
        for field in field_list:
            if not isinstance(field, str) or not field:
                raise SchemaDefinitionError(f"Index {name!r}: {field!r} is not a field name.")
            if field in ("_creationTime", "_id"):
                raise SchemaDefinitionError(
                    f"Index {name!r}: {field!r} is added to every index automatically; leave it out."
                )
        if len(set(field_list)) != len(field_list):
            raise SchemaDefinitionError(f"Index {name!r} lists a field twice: {list(field_list)}.")
        (self.staged_indexes if staged else self.indexes)[name] = field_list
        return self

    def search_index(self, name: str, config: dict[str, Any]) -> "TableDefinition":
        """Declare a full text search index: `{"searchField": f, "filterFields": [...], "staged": False}`."""
        define_search_index(self, name, config)
        return self

    def vector_index(self, name: str, config: dict[str, Any]) -> "TableDefinition":
        """Declare a vector index: `{"vectorField": f, "dimensions": n, "filterFields": [...], "staged": False}`."""
        define_vector_index(self, name, config)
        return self

    searchIndex = search_index
    vectorIndex = vector_index

    def __repr__(self) -> str:
        return f"define_table({self.validator!r}, indexes={self.indexes!r})"


class SchemaDefinition:
    """A schema: its tables, and whether documents are checked against them."""

    def __init__(self, tables: dict[str, TableDefinition], *, schema_validation: bool = True,
                 strict_table_name_types: bool = True) -> None:
        if not isinstance(tables, dict):
            raise SchemaDefinitionError(f"define_schema takes a dict of table name -> define_table(...), got {tables!r}")
        for name, table in tables.items():
            check_table_name(name)
            if not isinstance(table, TableDefinition):
                raise SchemaDefinitionError(f"Table {name!r}: expected define_table(...), got {table!r}")
            check_table_indexes(name, table, schema_validation)
        self.tables = dict(tables)
        self.schema_validation = schema_validation
        self.strict_table_name_types = strict_table_name_types

    def __repr__(self) -> str:
        return f"define_schema({self.tables!r})"


def define_table(document: Any) -> TableDefinition:
    """A table whose documents match `document` (a dict of validators, `v.object`, or `v.union`)."""
    return TableDefinition(document)


def define_schema(tables: dict[str, TableDefinition], *, schema_validation: bool = True,
                  strict_table_name_types: bool = True, **camel: Any) -> SchemaDefinition:
    """The app's schema. Tables not listed here can still be written at run time, as in Convex
    (`strict_table_name_types` is a TypeScript-only check there)."""
    schema_validation = camel.pop("schemaValidation", schema_validation)
    strict_table_name_types = camel.pop("strictTableNameTypes", strict_table_name_types)
    if camel:
        raise SchemaDefinitionError(f"define_schema: unknown option(s) {sorted(camel)}")
    return SchemaDefinition(tables, schema_validation=schema_validation,
                            strict_table_name_types=strict_table_name_types)
