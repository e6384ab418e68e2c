"""Bearer tokens: the identity in an `Authorization: Bearer <JWT>` header's claims.

Below both the dev server (which may verify the signature first, see
`server/auth.py`) and the emulator's `t.fetch` (which trusts the claims, as the
dev server does without `--jwks`); standard library only.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from typing import Any

MAX_TOKEN_BYTES = 16 * 1024
_PROFILE_CLAIMS = ("name", "given_name", "family_name", "nickname", "preferred_username", "profile_url",
                   "picture_url", "email", "email_verified", "gender", "birthday", "timezone", "language",
                   "phone_number", "phone_number_verified", "address", "updated_at")


class TokenError(ValueError):
    """A header or token that does not carry an identity; the message says what was wrong."""


def bearer_token(header: str) -> str:
    """The JWT of a `Bearer <JWT>` header."""
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or token.count(".") != 2 or not token.isascii():
        raise TokenError("Authorization must be 'Bearer <JWT>'")
    if len(token) > MAX_TOKEN_BYTES:
        raise TokenError(f"The JWT is longer than {MAX_TOKEN_BYTES} bytes")
    return token


def unverified_claims(token: str) -> Any:
    """A JWT's payload as given, signature unchecked."""
    payload = token.split(".")[1]
    try:
        return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, TypeError, binascii.Error, RecursionError):
        raise TokenError("The JWT's payload is not base64url-encoded JSON") from None


def identity_from_claims(claims: Any) -> dict[str, Any]:
    """Convex's identity (`subject`, `issuer`, `tokenIdentifier`, camelCase profile claims) of a JWT's claims."""
    if not isinstance(claims, dict) or "sub" not in claims or "iss" not in claims:
        raise TokenError("The JWT needs `iss` and `sub` claims")
    if not all(isinstance(claims[c], str) for c in ("iss", "sub")):
        raise TokenError("The JWT's `iss` and `sub` claims must be strings")
    identity: dict[str, Any] = {"subject": claims["sub"], "issuer": claims["iss"],
                                "tokenIdentifier": f"{claims['iss']}|{claims['sub']}"}
    for claim in _PROFILE_CLAIMS:
        if claim in claims:
            identity[_camel(claim)] = claims[claim]
    try:
        _check_text(identity)
    except (UnicodeEncodeError, RecursionError):
        raise TokenError("The JWT's claims are not valid Unicode JSON") from None
    return identity


def identity_from_header(header: str | None,
                         verify: Callable[[str], Any] | None = None) -> dict[str, Any] | None:
    """The identity of a `Bearer <JWT>` header (None without one); `verify(token)` returns checked claims."""
    if not header:
        return None
    token = bearer_token(header)
    return identity_from_claims(verify(token) if verify is not None else unverified_claims(token))


def _check_text(value: Any, depth: int = 0) -> None:
    """Claims become Convex values: refuse lone surrogates and absurd nesting."""
    if depth > 16:
        raise RecursionError
    if isinstance(value, str):
        value.encode("utf-8")
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_text(k, depth + 1)
            _check_text(v, depth + 1)
    elif isinstance(value, list):
        for v in value:
            _check_text(v, depth + 1)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


__all__ = ["MAX_TOKEN_BYTES", "TokenError", "bearer_token", "identity_from_claims", "identity_from_header",
           "unverified_claims"]
