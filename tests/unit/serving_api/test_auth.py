"""Tokens: what is accepted, and every forgery refused with 401 before any database access."""

from __future__ import annotations

import base64
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient

from analisa.core.settings import Settings
from serving_api.app import create_app
from serving_api.auth import InvalidTokenError, TokenService, check_secret, hash_secret, key_id

SECRET = "s" * 40
OLD_SECRET = "o" * 40
NO_DB = "postgresql://nobody@127.0.0.1:1/none"


def settings(**values) -> Settings:
    return Settings(DATABASE_URL=NO_DB, ANALISA_JWT_SECRET=SECRET, **values)


def claims(**changes) -> dict:
    now = int(time.time())
    base = {
        "iss": "analisa",
        "aud": "analisa-api",
        "sub": "cl_x",
        "iat": now,
        "nbf": now,
        "exp": now + 300,
        "wid": 7,
        "ws": "acme",
        "role": "viewer",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def sign(payload: dict, key=SECRET, alg="HS256", kid: str | None = None) -> str:
    return jwt.encode(payload, key, algorithm=alg, headers={"kid": kid or key_id(SECRET)})


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RSA_PUBLIC_PEM = RSA_KEY.public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
)


def forged() -> dict[str, str]:
    good = sign(claims())
    head, payload, signature = good.split(".")
    tampered_payload = b64(claims(role="admin"))
    return {
        "alg none": f"{b64({'alg': 'none', 'kid': key_id(SECRET)})}.{payload}.",
        "alg none, no kid": f"{b64({'alg': 'none'})}.{payload}.",
        "wrong key": sign(claims(), key="w" * 40),
        "RS256 signed by another key": sign(claims(), key=RSA_KEY, alg="RS256"),
        # HS/RS confusion: HMAC keyed with a public key a verifier might hold
        "HS256 keyed with a public key": _hmac_with_pem(),
        "expired beyond leeway": sign(claims(exp=int(time.time()) - 30)),
        "wrong audience": sign(claims(aud="someone-else")),
        "wrong issuer": sign(claims(iss="evil")),
        "unknown kid": sign(claims(), kid="0123456789abcdef"),
        "tampered payload": f"{head}.{tampered_payload}.{signature}",
        "no exp": sign(claims(exp=None)),
        "no workspace": sign(claims(wid=None)),
        "unknown role": sign(claims(role="root")),
        "garbage": "not-a-token",
        "huge": "a" * 5000,
    }


def _hmac_with_pem() -> str:
    """PyJWT refuses PEM keys as HMAC secrets; build the token by hand as an attacker would."""
    import hashlib
    import hmac

    head = b64({"alg": "HS256", "typ": "JWT", "kid": key_id(SECRET)})
    body = b64(claims(role="admin"))
    mac = hmac.new(RSA_PUBLIC_PEM, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(settings())) as client:
        yield client


@pytest.mark.parametrize("name", list(forged()))
def test_forged_tokens_are_401(client, name):
    token = forged()[name]
    response = client.get("/v1/influencers", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, name
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")
    with pytest.raises(InvalidTokenError):
        TokenService(settings()).verify(token)


@pytest.mark.parametrize("header", [None, "Basic dXNlcjpwYXNz", "Bearer", "Bearer  "])
def test_missing_or_other_credentials_are_401(client, header):
    headers = {"Authorization": header} if header else {}
    assert client.get("/v1/influencers", headers=headers).status_code == 401


def test_expired_within_leeway_is_accepted_and_leeway_is_capped():
    service = TokenService(settings(ANALISA_JWT_LEEWAY=10))
    principal = service.verify(sign(claims(exp=int(time.time()) - 5)))
    assert (principal.workspace_id, principal.role) == (7, "viewer")
    with pytest.raises(Exception, match="ANALISA_JWT_LEEWAY"):
        settings(ANALISA_JWT_LEEWAY=11)


def test_issued_tokens_name_their_key_and_carry_workspace_and_role():
    service = TokenService(settings())
    token, expires = service.issue(
        subject="cli:me", workspace_id=3, workspace="acme", role="analyst", ttl_seconds=60
    )
    header = jwt.get_unverified_header(token)
    assert header == {"alg": "HS256", "kid": key_id(SECRET), "typ": "JWT"}
    principal = service.verify(token)
    assert (principal.subject, principal.workspace_id, principal.workspace, principal.role) == (
        "cli:me",
        3,
        "acme",
        "analyst",
    )
    assert expires - time.time() == pytest.approx(60, abs=2)
    with pytest.raises(ValueError):
        service.issue(subject="x", workspace_id=3, workspace="acme", role="root", ttl_seconds=60)


def test_rotation_accepts_the_previous_key_while_listed():
    old = TokenService(Settings(DATABASE_URL=NO_DB, ANALISA_JWT_SECRET=OLD_SECRET))
    token, _ = old.issue(subject="s", workspace_id=1, workspace="a", role="viewer", ttl_seconds=60)
    rotated = TokenService(settings(ANALISA_JWT_PREVIOUS_SECRETS=OLD_SECRET))
    assert rotated.verify(token).workspace == "a"
    new, _ = rotated.issue(
        subject="s", workspace_id=1, workspace="a", role="viewer", ttl_seconds=60
    )
    assert jwt.get_unverified_header(new)["kid"] == key_id(SECRET)
    with pytest.raises(InvalidTokenError, match="unknown key id"):
        TokenService(settings()).verify(token)  # old key dropped after the tokens expired


def test_short_secret_refused():
    with pytest.raises(Exception, match="ANALISA_JWT_SECRET: must be at least 32 bytes"):
        Settings(ANALISA_JWT_SECRET="short")


def test_client_secrets_are_stored_as_salted_scrypt():
    stored = hash_secret("secret-1")
    assert stored.startswith("scrypt$16384$8$1$") and "secret-1" not in stored
    assert hash_secret("secret-1") != stored  # salted
    assert check_secret("secret-1", stored)
    assert not check_secret("secret-2", stored)
    assert not check_secret("secret-1", None)
    assert not check_secret("secret-1", "garbage")
