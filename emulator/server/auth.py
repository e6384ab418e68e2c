"""Who is calling: the identity in a request's `Authorization: Bearer <JWT>`.

Without `--jwks` the token's claims are trusted as given (the dev default, said
at start-up). With it, the signature must verify against a key of the JWKS
whose declared algorithm is the token's `alg` (asymmetric algorithms only, so
a public key can never serve as an HMAC secret), and `iss` and `aud` must be
the configured ones. Every failure is a RequestError 401, never a crash.
"""

from __future__ import annotations

import json
from typing import Any

from convex_py.errors import ConvexPyError

from .._tokens import TokenError, identity_from_header
from .errors import RequestError

# Which token algorithms a key of each type may verify when the JWK does not declare its own `alg`.
_ALGORITHMS_BY_KEY_TYPE = {
    "RSA": {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"},
    "EC": {"ES256", "ES384", "ES512", "ES256K"},
    "OKP": {"EdDSA"},
}
_ASYMMETRIC = set().union(*_ALGORITHMS_BY_KEY_TYPE.values())


def _unauthorized(message: str) -> RequestError:
    return RequestError(401, "InvalidAuthHeader", message)


class TokenVerifier:
    """Checks a JWT's signature against a JWKS file, its issuer and its audience (`--jwks`, ...)."""

    def __init__(self, jwks_path: str, issuer: str | None, audience: str | None = None) -> None:
        import jwt

        try:
            with open(jwks_path) as file:
                data = json.load(file)
            entries = data["keys"]
            if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
                raise ValueError("`keys` must be a list of JWK objects")
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ConvexPyError(f"Cannot read the JWKS file {jwks_path!r}: {exc}") from None
        # Each usable key, with the algorithms it may verify: its declared `alg`, else its key type's.
        self.keys: list[tuple[Any, set[str]]] = []
        for entry in entries:
            try:
                key = jwt.PyJWK.from_dict(entry)
            except (jwt.PyJWTError, ValueError, TypeError):
                continue
            declared = entry.get("alg")
            allowed = {declared} & _ASYMMETRIC if declared else set(_ALGORITHMS_BY_KEY_TYPE.get(key.key_type, ()))
            if allowed:
                self.keys.append((key, allowed))
        if not self.keys:
            raise ConvexPyError(f"Cannot read the JWKS file {jwks_path!r}: it has no usable public key "
                                "(RSA, EC or OKP)")
        self.issuer = issuer
        self.audience = audience

    def claims(self, token: str) -> dict[str, Any]:
        import jwt

        try:
            header = jwt.get_unverified_header(token)
        except (jwt.PyJWTError, ValueError, TypeError, RecursionError):
            raise _unauthorized("Could not verify the JWT: its header is not valid") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in _ASYMMETRIC:
            raise _unauthorized(f"Could not verify the JWT: algorithm {alg!r} is not accepted "
                                f"(expected one of {', '.join(sorted(_ASYMMETRIC))})")
        kid = header.get("kid")
        candidates = [k for k, allowed in self.keys if alg in allowed and (kid is None or k.key_id in (None, kid))]
        if not candidates:
            raise _unauthorized(f"Could not verify the JWT: no key in the JWKS is for algorithm {alg}"
                                + (f" with kid {kid!r}" if kid is not None else ""))
        last: Exception | None = None
        for key in candidates:
            try:
                return jwt.decode(token, key.key, algorithms=[alg], issuer=self.issuer, audience=self.audience,
                                  options={"verify_aud": self.audience is not None, "require": ["iss", "sub"]})
            except jwt.InvalidSignatureError as exc:
                last = exc
            except (jwt.PyJWTError, ValueError, TypeError, RecursionError) as exc:
                raise _unauthorized(f"Could not verify the JWT: {exc}") from None
        raise _unauthorized(f"Could not verify the JWT: {last or 'no key matches'}")


def identity_from_token(header: str | None, verifier: TokenVerifier | None = None) -> dict[str, Any] | None:
    """The identity in a `Bearer <JWT>` header's claims, checked by `verifier` when there is one."""
    try:
        return identity_from_header(header, verifier.claims if verifier is not None else None)
    except TokenError as exc:
        raise _unauthorized(str(exc)) from None


__all__ = ["TokenVerifier", "identity_from_token"]
