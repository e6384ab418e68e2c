"""A deployment's environment variables: Convex's rules for names and values, and `.env` files.

The variables an emulator holds are what `convex_py.env` reads while its
functions run. Names follow Convex's rule (a letter or underscore, then
letters, digits and underscores, at most 256 characters), values are strings
of at most 8 KiB, and `CONVEX_CLOUD_URL`/`CONVEX_SITE_URL` are built in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from convex_py.errors import EnvironmentVariableError

MAX_NAME_LENGTH = 256
MAX_VALUE_LENGTH = 8 * 1024
_NAME = re.compile(r"[a-zA-Z_]+[a-zA-Z0-9_]*")

BUILT_IN = ("CONVEX_CLOUD_URL", "CONVEX_SITE_URL")


def built_ins(port: int = 3210, site_port: int | None = None, host: str = "127.0.0.1") -> dict[str, str]:
    """The variables every Convex deployment has: its API URL and its HTTP actions' URL."""
    return {
        "CONVEX_CLOUD_URL": f"http://{host}:{port}",
        "CONVEX_SITE_URL": f"http://{host}:{site_port if site_port is not None else port + 1}",
    }


def check_variable(name: Any, value: Any) -> None:
    """Raise Convex's error for a name or value it refuses (or a built-in name)."""
    if type(name) is not str or not _NAME.fullmatch(name):
        raise EnvironmentVariableError(
            f"The environment variable name {name} is invalid. Environment variable names must begin with a "
            "letter and may only include characters a-z, A-Z, 0-9, and underscores."
        )
    if len(name) > MAX_NAME_LENGTH:
        raise EnvironmentVariableError(
            f"The environment variable name {name} is too long. Environment variable names must be less "
            f"than {MAX_NAME_LENGTH}."
        )
    if name in BUILT_IN:
        raise EnvironmentVariableError(
            f'Environment variable with name "{name}" is built-in and cannot be overridden'
        )
    if type(value) is not str:
        raise EnvironmentVariableError(
            f"The value of environment variable {name} must be a string, got {type(value).__name__}: {value!r}"
        )
    size = len(value.encode())
    if size > MAX_VALUE_LENGTH:
        raise EnvironmentVariableError(
            f"The environment variable value is {size} bytes, which is too large. (max size: {MAX_VALUE_LENGTH}"
        )


def checked(variables: Mapping[str, Any] | None) -> dict[str, str]:
    """The variables given to an emulator, checked."""
    if variables is None:
        return {}
    if not isinstance(variables, Mapping):
        raise EnvironmentVariableError(f"env= takes a dict of names to string values, got {variables!r}")
    for name, value in variables.items():
        check_variable(name, value)
    return dict(variables)


_LINE = re.compile(r"(?:export\s+)?([^=\s]+)\s*=\s*(.*)")
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def _unquote(raw: str, where: str) -> str:
    if raw[:1] in ("'", '"'):
        quote = raw[0]
        end = raw.find(quote, 1)
        while quote == '"' and end > 0 and raw[end - 1] == "\\" and not raw[:end].endswith("\\\\"):
            end = raw.find(quote, end + 1)
        if end < 0:
            raise EnvironmentVariableError(f"{where}: the value's closing {quote} is missing")
        rest = raw[end + 1:].strip()
        if rest and not rest.startswith("#"):
            raise EnvironmentVariableError(f"{where}: unexpected text after the quoted value: {rest}")
        body = raw[1:end]
        if quote == '"':
            body = re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), "\\" + m.group(1)), body)
        return body
    return re.sub(r"\s+#.*$", "", raw).strip()


def parse_env_file(path: str | Path) -> dict[str, str]:
    """`NAME=value` lines of a `.env` file (comments, blank lines, `export`, quoted values), checked."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise EnvironmentVariableError(f"cannot read env file {str(path)!r}: {exc.strerror or exc}") from None
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{path}, line {number}"
        match = _LINE.fullmatch(stripped)
        if match is None:
            raise EnvironmentVariableError(f"{where}: expected NAME=value, got {stripped!r}")
        name, value = match.group(1), _unquote(match.group(2), where)
        try:
            check_variable(name, value)
        except EnvironmentVariableError as exc:
            raise EnvironmentVariableError(f"{where}: {exc}") from None
        variables[name] = value
    return variables
