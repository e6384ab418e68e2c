"""Convex's camelCase names (`runMutation`, `withIndex`, ...) as aliases of our snake_case ones."""

from __future__ import annotations

from typing import TypeVar

T = TypeVar("T", bound=type)


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def with_camel_case_aliases(cls: T) -> T:
    """Give every public snake_case method of `cls` its camelCase alias, once for all ctx classes."""
    for name, member in list(vars(cls).items()):
        if name.startswith("_") or "_" not in name.strip("_"):
            continue
        alias = camel_case(name.rstrip("_"))
        if alias != name and alias not in vars(cls):
            setattr(cls, alias, member)
    return cls
