"""API tokens: HS256 JWTs with pinned algorithm, issuer, audience, expiry and key ids.

The signing key is ANALISA_JWT_SECRET; its key id (`kid`) is a fingerprint of it, so rotating
means: set the new secret and move the old one to ANALISA_JWT_PREVIOUS_SECRETS until the tokens
it signed have expired. A token whose `kid` is not one of these keys is refused before any
signature check, and only HS256 is ever accepted (no `none`, no RS/HS confusion).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from analisa.core.settings import Settings
from serving_api.problems import ApiProblem

Role = Literal["viewer", "analyst", "admin"]
ROLES: tuple[str, ...] = ("viewer", "analyst", "admin")
_RANK = {role: rank for rank, role in enumerate(ROLES)}
ALGORITHM = "HS256"
MAX_TOKEN_BYTES = 4096
MAX_TTL_SECONDS = 30 * 86400
_REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub"]


def key_id(secret: str) -> str:
    """Public fingerprint of a signing secret: names the key without revealing it."""
    return hashlib.sha256(b"analisa-jwt-kid:" + secret.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's subject, workspace and role."""

    subject: str
    workspace_id: int
    workspace: str
    role: str
    expires_at: int

    def at_least(self, role: str) -> bool:
        return _RANK[self.role] >= _RANK[role]


class InvalidTokenError(Exception):
    """Why a token was refused (said in the 401; never which part of the key was wrong)."""


class TokenService:
    """Issues and verifies tokens with the configured keys; verified tokens are remembered
    (until they expire) so the hot path does not recompute the HMAC for every request."""

    def __init__(self, settings: Settings, *, cache_size: int = 10_000) -> None:
        current = settings.jwt_secret.get_secret_value()
        previous = [
            s.strip()
            for s in settings.jwt_previous_secrets.get_secret_value().split(",")
            if s.strip()
        ]
        self.signing_kid = key_id(current)
        self.keys = {key_id(s): s for s in previous}
        self.keys[self.signing_kid] = current
        self.issuer = settings.jwt_issuer
        self.audience = settings.jwt_audience
        self.leeway = settings.jwt_leeway_seconds
        self._verified: dict[bytes, Principal] = {}
        self._cache_size = cache_size

    def issue(
        self, *, subject: str, workspace_id: int, workspace: str, role: str, ttl_seconds: int
    ) -> tuple[str, int]:
        """A signed token and its expiry (epoch seconds)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r} (expected one of {', '.join(ROLES)})")
        if not 1 <= ttl_seconds <= MAX_TTL_SECONDS:
            raise ValueError(f"ttl must be between 1 and {MAX_TTL_SECONDS} seconds")
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
            "wid": workspace_id,
            "ws": workspace,
            "role": role,
        }
        token = jwt.encode(
            claims,
            self.keys[self.signing_kid],
            algorithm=ALGORITHM,
            headers={"kid": self.signing_kid},
        )
        return token, claims["exp"]

    def verify(self, token: str) -> Principal:
        """The token's principal; a token verified before is remembered under its hash (not
        the token itself) until it expires, and its expiry is checked on every use."""
        digest = hashlib.blake2b(token.encode("utf-8", "surrogateescape"), digest_size=20).digest()
        known = self._verified.get(digest)
        if known is not None:
            if time.time() <= known.expires_at + self.leeway:
                return known
            self._verified.pop(digest, None)
            raise InvalidTokenError("token expired")
        principal = self._verify(token)
        if len(self._verified) >= self._cache_size:
            self._verified.clear()
        self._verified[digest] = principal
        return principal

    def _verify(self, token: str) -> Principal:
        if len(token) > MAX_TOKEN_BYTES:
            raise InvalidTokenError("token too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidTokenError("malformed token") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidTokenError(f"algorithm not accepted (only {ALGORITHM})")
        key = self.keys.get(header.get("kid")) if isinstance(header.get("kid"), str) else None
        if key is None:
            raise InvalidTokenError("unknown key id")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": _REQUIRED_CLAIMS, "strict_aud": True},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidTokenError("token expired") from None
        except jwt.InvalidAudienceError:
            raise InvalidTokenError("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise InvalidTokenError("wrong issuer") from None
        except jwt.InvalidSignatureError:
            raise InvalidTokenError("bad signature") from None
        except jwt.PyJWTError as exc:
            raise InvalidTokenError(f"invalid token: {exc}") from None
        return _principal(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    wid, workspace, role, subject = (claims.get(k) for k in ("wid", "ws", "role", "sub"))
    if not (isinstance(wid, int) and not isinstance(wid, bool) and wid > 0):
        raise InvalidTokenError("token has no valid workspace")
    if not isinstance(workspace, str) or not isinstance(subject, str) or role not in ROLES:
        raise InvalidTokenError("token has no valid workspace, subject or role")
    return Principal(subject, wid, workspace, role, int(claims["exp"]))


# --- client secrets -----------------------------------------------------------------------

_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def hash_secret(secret: str) -> str:
    """scrypt with a random salt; the stored form names its parameters so they can change."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, dklen=32, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_secret(secret: str, stored: str | None) -> bool:
    """Constant-time check; an unknown client costs the same as a wrong secret."""
    if stored is None:
        stored = _DUMMY_HASH
    try:
        _, n, r, p, salt, digest = stored.split("$")
        computed = hashlib.scrypt(
            secret.encode(), salt=bytes.fromhex(salt), dklen=32, n=int(n), r=int(r), p=int(p)
        )
    except ValueError:
        return False
    return hmac.compare_digest(computed.hex(), digest) and stored is not _DUMMY_HASH


_DUMMY_HASH = hash_secret(secrets.token_urlsafe(16))


# --- FastAPI dependencies -------------------------------------------------------------------

bearer = HTTPBearer(
    auto_error=False,
    bearerFormat="JWT",
    description="A token from `POST /v1/auth/token` or `analisa token`.",
)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The caller, from `Authorization: Bearer <token>`; 401 for a missing or bad token."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ApiProblem(
            401,
            "Unauthorized",
            "missing bearer token",
            headers={"WWW-Authenticate": "Bearer"},
        )
    tokens: TokenService = request.app.state.tokens
    try:
        principal = tokens.verify(credentials.credentials)
    except InvalidTokenError as exc:
        raise ApiProblem(
            401,
            "Unauthorized",
            str(exc),
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        ) from None
    request.state.principal = principal
    return principal


def require(role: str):
    """A dependency admitting `role` and the roles above it; 403 for the others."""

    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        if not principal.at_least(role):
            raise ApiProblem(403, "Forbidden", f"this operation needs the {role} role")
        return principal

    dependency.__name__ = f"require_{role}"
    return dependency


Viewer = Annotated[Principal, Depends(require("viewer"))]
Analyst = Annotated[Principal, Depends(require("analyst"))]
Admin = Annotated[Principal, Depends(require("admin"))]
