"""Verified tokens on the dev server: a wrong algorithm, audience or key algorithm is a 401, never a crash."""

from __future__ import annotations

import base64
import json

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from convex_py import query
from emulator import ConvexEmulator
from emulator.server import DevServer

from _server_http import post

ISSUER = "https://auth.example"
KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
CLAIMS = {"iss": ISSUER, "sub": "u7", "aud": "my-app"}


@query
def whoami(ctx, args):
    return ctx.auth.get_user_identity()


def jwks_file(tmp_path, **extra) -> str:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(KEY.public_key()))
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "k1", "use": "sig", **extra}]}))
    return str(path)


@pytest.fixture
def make_server(tmp_path):
    servers = []

    def make(**jwk_extra):
        dev = DevServer(ConvexEmulator(modules={"m": {"whoami": whoami}}), port=0, jwks=jwks_file(tmp_path, **jwk_extra),
                        auth_issuer=ISSUER, auth_audience="my-app").start()
        servers.append(dev)
        return dev

    yield make
    for dev in servers:
        dev.stop()


def whoami_with(server, token: str):
    return post(server, "/api/query", {"path": "m:whoami", "args": {}}, {"Authorization": f"Bearer {token}"})


def unsigned(header: dict, claims: dict, signature: bytes = b"") -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).decode().rstrip("=")

    return ".".join([part(json.dumps(header).encode()), part(json.dumps(claims).encode()), part(signature)])


def test_a_token_with_the_right_key_issuer_and_audience_gives_its_identity(make_server):
    server = make_server(alg="RS256")
    status, body = whoami_with(server, jwt.encode(CLAIMS, KEY, algorithm="RS256", headers={"kid": "k1"}))
    assert (status, body["value"]) == (200, {"subject": "u7", "issuer": ISSUER, "tokenIdentifier": f"{ISSUER}|u7"})


def test_alg_none_is_a_401(make_server):
    server = make_server()
    status, body = whoami_with(server, unsigned({"alg": "none", "typ": "JWT"}, CLAIMS))
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
    assert "algorithm 'none' is not accepted" in body["message"]


def test_hmac_signed_with_the_public_key_is_a_401(make_server):
    server = make_server()
    pem = KEY.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    import hashlib
    import hmac

    head = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": "k1"}).encode()).decode().rstrip("=")
    claims = base64.urlsafe_b64encode(json.dumps(CLAIMS).encode()).decode().rstrip("=")
    signature = hmac.new(pem, f"{head}.{claims}".encode(), hashlib.sha256).digest()
    forged = f"{head}.{claims}." + base64.urlsafe_b64encode(signature).decode().rstrip("=")
    status, body = whoami_with(server, forged)
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
    assert "algorithm 'HS256' is not accepted" in body["message"]


@pytest.mark.parametrize("header_alg", [["RS256"], 7, None, "RS256\u0000"])
def test_a_malformed_alg_is_a_401(make_server, header_alg):
    server = make_server()
    status, body = whoami_with(server, unsigned({"alg": header_alg, "kid": "k1"}, CLAIMS, b"sig"))
    assert (status, body["code"]) == (401, "InvalidAuthHeader")


def test_a_wrong_or_missing_audience_is_a_401(make_server):
    server = make_server()
    for claims in ({**CLAIMS, "aud": "other-app"}, {"iss": ISSUER, "sub": "u7"}):
        status, body = whoami_with(server, jwt.encode(claims, KEY, algorithm="RS256", headers={"kid": "k1"}))
        assert (status, body["code"]) == (401, "InvalidAuthHeader")
        assert "aud" in body["message"].lower()


def test_the_keys_declared_algorithm_is_enforced(make_server):
    server = make_server(alg="RS384")
    status, body = whoami_with(server, jwt.encode(CLAIMS, KEY, algorithm="RS256", headers={"kid": "k1"}))
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
    assert "no key in the JWKS is for algorithm RS256" in body["message"]
    status, body = whoami_with(server, jwt.encode(CLAIMS, KEY, algorithm="RS384", headers={"kid": "k1"}))
    assert status == 200 and body["value"]["subject"] == "u7"


def test_a_token_signed_by_a_key_of_another_type_is_a_401(make_server):
    server = make_server()
    other = ec.generate_private_key(ec.SECP256R1())
    status, body = whoami_with(server, jwt.encode(CLAIMS, other, algorithm="ES256", headers={"kid": "k1"}))
    assert (status, body["code"]) == (401, "InvalidAuthHeader")
