"""convex-py: write Convex-style backend functions in Python.

This package is what application code imports: decorators, validators `v`, the
schema, function references and errors. It knows nothing about how functions
run; that is the `emulator` package's job.
"""

from ._components import (
    AppDefinition,
    ComponentDefinition,
    FunctionHandle,
    create_function_handle,
    define_app,
    define_component,
)
from ._crons import CronJobs, cron_jobs
from . import components  # references into components (and the components shipped with convex-py)
from ._env import env
from ._functions import (
    ConvexFunction,
    action,
    internal_action,
    internal_mutation,
    internal_query,
    mutation,
    query,
)
from ._pagination import pagination_opts_validator, pagination_result_validator
from ._http import Blob, Headers, HttpAction, HttpRouter, Request, Response, http_action, http_router
from ._references import FunctionReference, api, get_function_name, internal
from ._schema import SchemaDefinition, TableDefinition, define_schema, define_table
from ._validators import Validator, v
from ._values import UNSET, CommitTsPlaceholder, Id, get_convex_size, get_document_size
from .errors import ConvexError

__version__ = "0.1.0"

__all__ = [
    "AppDefinition",
    "Blob",
    "CommitTsPlaceholder",
    "ComponentDefinition",
    "FunctionHandle",
    "ConvexError",
    "CronJobs",
    "ConvexFunction",
    "FunctionReference",
    "Headers",
    "HttpAction",
    "HttpRouter",
    "Id",
    "Request",
    "Response",
    "SchemaDefinition",
    "TableDefinition",
    "UNSET",
    "Validator",
    "action",
    "api",
    "components",
    "create_function_handle",
    "cron_jobs",
    "define_app",
    "define_component",
    "define_schema",
    "define_table",
    "env",
    "get_convex_size",
    "get_document_size",
    "get_function_name",
    "http_action",
    "http_router",
    "internal",
    "internal_action",
    "internal_mutation",
    "internal_query",
    "mutation",
    "pagination_opts_validator",
    "pagination_result_validator",
    "query",
    "v",
]
