"""Shared pieces of the convex-test port: the ported app's folder, its modules, and `match_object`
(vitest's `toMatchObject`: every expected key present with a matching value, lists element by element)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Any

APP = Path(__file__).parent / "apps"


def app_module(name: str) -> ModuleType:
    """The app's module `name` as the emulator loaded it (for plain helpers a test calls directly)."""
    from emulator.app import import_app_modules

    return import_app_modules(APP / "convex")[name]


def _matches(actual: Any, expected: Any, path: str) -> str | None:
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return f"{path or 'value'}: expected an object, got {actual!r}"
        for key, value in expected.items():
            if key not in actual:
                return f"{path}.{key}: missing (actual {actual!r})"
            problem = _matches(actual[key], value, f"{path}.{key}")
            if problem:
                return problem
        return None
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return f"{path or 'value'}: expected {len(expected)} items {expected!r}, got {actual!r}"
        for i, (a, e) in enumerate(zip(actual, expected)):
            problem = _matches(a, e, f"{path}[{i}]")
            if problem:
                return problem
        return None
    if isinstance(expected, bool) or isinstance(actual, bool):
        ok = type(actual) is type(expected) and actual == expected
    else:
        ok = actual == expected
    return None if ok else f"{path or 'value'}: expected {expected!r}, got {actual!r}"


def match_object(actual: Any, expected: Any) -> None:
    """Assert `actual` matches `expected` as vitest's `toMatchObject` does."""
    problem = _matches(actual, expected, "")
    assert problem is None, problem
