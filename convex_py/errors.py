"""Every error convex-py raises (and its one warning), in one place.

`ConvexError` is the application's own error (its `data` reaches the caller).
Everything else derives from `ConvexPyError`: a mistake in the app, the call or
the test, each message written to say what was wrong and where. Where Convex has
its own wording for an error, the message keeps it, since users search for it.
"""

from __future__ import annotations

from typing import Any


class ConvexError(Exception):
    """An application error: `data` (any Convex value) reaches the caller unchanged."""

    def __init__(self, data: Any = None) -> None:
        self.data = data
        super().__init__(data if isinstance(data, str) else repr(data))


class ConvexPyError(Exception):
    """Base class of the errors the function model and the emulator raise."""


# --- Values and validation ---------------------------------------------------


class InvalidValueError(ConvexPyError, ValueError):
    """A value that is not a Convex value, or breaks a value limit (size, nesting, length)."""


class ValidatorError(ConvexPyError, TypeError):
    """A validator built wrongly (e.g. `v.array()` with no element validator)."""


class ValidationError(ConvexPyError, ValueError):
    """A value did not match a validator. `path` says where in the value."""

    def __init__(self, message: str, *, path: str = "", value: Any = None, expected: str = "") -> None:
        self.path = path
        self.value = value
        self.expected = expected
        super().__init__(message)


class ArgumentValidationError(ValidationError):
    """A function's arguments did not match its `args` validator."""


class ReturnsValidationError(ValidationError):
    """A function's return value did not match its `returns` validator."""


class SchemaValidationError(ValidationError):
    """A document written to a table did not match the table's schema."""


# --- Functions and apps ------------------------------------------------------


class AppLoadError(ConvexPyError):
    """An app folder that cannot be loaded: missing, or a module that fails to import."""


class FunctionNotFoundError(ConvexPyError, LookupError):
    """A function reference that names no function of the app."""


class InvalidReferenceError(ConvexPyError, TypeError):
    """Something given where a function reference was expected that is not one."""


class FunctionKindError(ConvexPyError):
    """A function called in a way its kind does not allow (e.g. a query via `mutation`)."""

    @classmethod
    def called_as(cls, path: str, kind: str, called_as: str) -> "FunctionKindError":
        """`path` (a `kind`) was called as a `called_as`."""
        a = {"action": "an action"}
        return cls(f"`{path}` is {a.get(kind, 'a ' + kind)}, not {a.get(called_as, 'a ' + called_as)}: "
                   f"call it as {a.get(kind, 'a ' + kind)} (e.g. run_{kind} / t.{kind}).")


class ComponentError(ConvexPyError, ValueError):
    """A component defined, installed or reached wrongly (a name used twice, an unknown
    component, a bad function handle)."""


class ReadOnlyError(ConvexPyError):
    """A write attempted from a query (or another read-only context)."""


class DirectCallWarning(UserWarning):
    """A registered function was called directly (`fn(ctx, args)`): it runs, but Convex advises a helper."""


class UnsupportedInFunctionError(ConvexPyError):
    """A query or mutation awaited something that is not a Convex operation."""


# --- Database ----------------------------------------------------------------


class InvalidTableError(ConvexPyError, ValueError):
    """A table name that is invalid, or a system table where a user table belongs (or the reverse)."""


class InvalidIdError(ConvexPyError, ValueError):
    """An id that is malformed or belongs to another table."""


class DocumentNotFoundError(ConvexPyError, LookupError):
    """`patch`, `replace` or `delete` of a document that does not exist."""


class IndexNotFoundError(ConvexPyError, LookupError):
    """A query on an index the table does not have."""


class InvalidQueryError(ConvexPyError, ValueError):
    """A query built against Convex's rules: a bad index range, bad pagination options, ..."""


class NotUniqueError(ConvexPyError):
    """`.unique()` on a query that matched more than one document."""


class LimitExceededError(ConvexPyError):
    """A per-execution limit of Convex passed (documents read or written, bytes, ...)."""


class TransientError(ConvexPyError):
    """A system failure (e.g. an injected write conflict) that Convex would retry."""


class SchemaDefinitionError(ConvexPyError, ValueError):
    """A schema or table definition that is not valid."""


# --- Scheduler -----------------------------------------------------------------


class SchedulerError(ConvexPyError, ValueError):
    """A scheduling call Convex refuses: bad delay or time, unknown function, bad job id."""


class RunawaySchedulingError(ConvexPyError, RuntimeError):
    """Draining the scheduler found functions that keep scheduling more, past `max_iterations`."""


# --- Crons -----------------------------------------------------------------------


class CronDefinitionError(ConvexPyError, ValueError):
    """A cron job defined against Convex's rules (bad schedule, name used twice, ...).

    The message is Convex's own; `cron_name` says which job it was about.
    """

    cron_name: object = None


class CronNotFoundError(ConvexPyError, LookupError):
    """A runtime cron looked up by an id or name that no job has."""


class PersistenceError(ConvexPyError):
    """The dev server could not use its `--db` file, or could not write a commit to it (nothing of it applied)."""


# --- Nested calls, environment variables -------------------------------------------


class InvalidArgumentError(ConvexPyError, ValueError):
    """A ctx method called with options Convex refuses (bad `transactionLimits`, ...)."""


class MissingEnvironmentVariableError(ConvexPyError, KeyError):
    """`env[name]` for a variable the deployment does not have (`env.get(name)` gives None)."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"Environment variable {name!r} is not set in this deployment: set it with "
            f"ConvexEmulator(app, env={{{name!r}: ...}}), t.set_env({name!r}, ...), "
            "@pytest.mark.convex_env or `convex-py dev --env-file`; read optional ones with env.get(name)."
        )
        self.name = name

    def __str__(self) -> str:  # KeyError would show the message in quotes
        return str(self.args[0])


class EnvironmentVariableError(ConvexPyError, ValueError):
    """An environment variable name or value Convex refuses."""


class UnresolvedCommitTsError(ConvexPyError, TypeError):
    """`ctx.db.vars.commit_ts` used as a number before its mutation has committed."""


# --- HTTP actions and file storage -------------------------------------------------


class HttpRouteError(ConvexPyError, ValueError):
    """An `http.route(...)` Convex refuses: a bad path or method, or a route already taken.

    The message is Convex's own (e.g. "Path '/hook' for method POST already in use").
    """


class StorageError(ConvexPyError, ValueError):
    """A file storage call Convex refuses: a file that is not bytes, a sha256 that does not match."""


class StorageNotFoundError(StorageError, LookupError):
    """`ctx.storage.delete` of a file that does not exist (Convex: "storage id ... not found")."""


# --- The wall clock (tests) ---------------------------------------------------------


class WallClockError(ConvexPyError, RuntimeError):
    """The wall clock cannot be held at the virtual time (unknown backend, or another freezer holds it)."""
