"""`env`: the running deployment's environment variables, Convex's `process.env`, read-only.

The emulator binds its deployment's variables to a context variable while one of
its functions runs (and while its app loads, and for the test using the pytest
fixture), so two emulators in one process never see each other's. Outside any
deployment, `env` is empty.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import Any

from .errors import MissingEnvironmentVariableError

_EMPTY: Mapping[str, str] = {}

# The variables of the deployment whose code is running; set by the emulator only.
current_env: ContextVar[Mapping[str, str] | None] = ContextVar("convex_py_env", default=None)


class Environment(Mapping[str, str]):
    """A read-only mapping of the running deployment's environment variables.

    `env.get("NAME")` is None for a variable that is not set; `env["NAME"]` raises
    `MissingEnvironmentVariableError` (a `KeyError`) naming it.
    """

    __slots__ = ()

    @staticmethod
    def _vars() -> Mapping[str, str]:
        found = current_env.get()
        return _EMPTY if found is None else found

    def __getitem__(self, name: str) -> str:
        try:
            return self._vars()[name]
        except KeyError:
            raise MissingEnvironmentVariableError(name) from None

    def get(self, name: str, default: Any = None) -> Any:
        return self._vars().get(name, default)

    def __contains__(self, name: object) -> bool:
        return name in self._vars()

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._vars()))

    def __len__(self) -> int:
        return len(self._vars())

    def __setitem__(self, name: str, value: Any) -> None:
        raise TypeError(
            "convex_py.env is read-only inside functions, like a deployment's variables: set them with "
            "ConvexEmulator(app, env={...}), t.set_env(name, value) or `convex-py dev --env-file`."
        )

    def __delitem__(self, name: str) -> None:
        self.__setitem__(name, None)

    def __repr__(self) -> str:
        return f"env({dict(sorted(self._vars().items()))!r})"


env = Environment()
