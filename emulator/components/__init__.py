"""Components in the emulator: each installed component gets its own tables, runtime and
scheduler view, wired into the app's transactions and queue (see `_loading` for installing,
`_node` for calls across a component boundary, `_store` for how tables stay separate)."""

from __future__ import annotations

from ._loading import Components, app_definition
from ._node import ComponentNode, JobHome

__all__ = ["ComponentNode", "Components", "JobHome", "app_definition"]
