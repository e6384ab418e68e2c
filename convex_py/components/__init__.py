"""`components.<name>.<module>.<function>`, and the components shipped with convex-py.

This package is both: attribute access gives references into installed components (so
`from convex_py import components` keeps working once a shipped component is imported), and
its subpackages are components with their client class beside the component folder, as
Convex's packages split `src/client` and `src/component`: `convex_py.components.rate_limiter`
(token bucket and fixed window, as `@convex-dev/rate-limiter`) and `convex_py.components.workpool`
(bounded parallelism, retries with backoff, completion callbacks, as `@convex-dev/workpool`).
Import them by their full name: `from convex_py.components.workpool import Workpool, workpool`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from .._components import ComponentReference


class _Components(types.ModuleType):
    """The module as the root of component references."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return ComponentReference((name,))

    def __setattr__(self, name: str, value: Any) -> None:
        # Importing a shipped component binds its package here; keep `components.<name>` a reference.
        if isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}":
            self.__dict__.setdefault("_shipped", {})[name] = value
            return
        super().__setattr__(name, value)

    def __repr__(self) -> str:
        return "components"


sys.modules[__name__].__class__ = _Components
