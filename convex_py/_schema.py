"""`define_schema` and `define_table`: tables, their document validators and indexes."""

from __future__ import annotations

import re
from typing import Any, Iterable

from ._search_indexes import (
    SearchIndexDefinition,
    VectorIndexDefinition,
    check_table_indexes,
    define_search_index,
    define_vector_index,
)
from ._validators import Validator, to_validator
from .errors import SchemaDefinitionError

_TABLE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_INDEX_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
RESERVED_INDEXES = ("by_id", "by_creation_time")


def check_table_name(name: Any) -> None:
    """Raise unless `name` is a valid user table name (letters, digits, `_`; not starting with `_`)."""
    if not isinstance(name, str) or not _TABLE_NAME.match(name) or len(name) > 64:
        raise SchemaDefinitionError(
            f"Invalid table name {name!r}: table names start with a letter, contain only letters, "
            "digits and underscores, and are at most 64 characters long."
        )


class TableDefinition:
    """A table: the validator its documents must match, and its indexes."""

    def __init__(self, document: Any) -> None:
        self.validator: Validator = to_validator(document)
        self.indexes: dict[str, tuple[str, ...]] = {}
        self.search_indexes: dict[str, SearchIndexDefinition] = {}
        self.vector_indexes: dict[str, VectorIndexDefinition] = {}

    def index(self, name: str, fields: Iterable[str]) -> "TableDefinition":
        """Declare an index over `fields` (ordered by them, then `_creationTime`)."""
        if not isinstance(name, str) or not _INDEX_NAME.match(name):
            raise SchemaDefinitionError(f"Invalid index name {name!r}: use letters, digits and underscores.")
        if name in RESERVED_INDEXES:
            raise SchemaDefinitionError(f"Index name {name!r} is reserved: every table already has it.")
        if name in self.indexes:
            raise SchemaDefinitionError(f"Duplicate index name {name!r}.")
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
        self.indexes[name] = field_list
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
    """The app's schema. Writes to a table not listed here are refused (`strict_table_name_types`)."""
    schema_validation = camel.pop("schemaValidation", schema_validation)
    strict_table_name_types = camel.pop("strictTableNameTypes", strict_table_name_types)
    if camel:
        raise SchemaDefinitionError(f"define_schema: unknown option(s) {sorted(camel)}")
    return SchemaDefinition(tables, schema_validation=schema_validation,
                            strict_table_name_types=strict_table_name_types)
