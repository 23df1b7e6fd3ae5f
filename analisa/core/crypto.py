"""Token vault (AES-256-GCM) and pseudonymisation (HMAC-SHA256).

OAuth tokens are kept only as ciphertext; the associated data binds each ciphertext to its
platform and account, so a ciphertext copied onto another account's row does not decrypt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_NONCE_BYTES = 12
_VERSION = b"\x01"


class VaultError(ValueError):
    pass


def _key_bytes(key_b64: str) -> bytes:
    try:
        key = base64.b64decode(key_b64, validate=True)
    except ValueError as exc:
        raise VaultError("ANALISA_VAULT_KEY must be base64 of 32 random bytes") from exc
    if len(key) != 32:
        raise VaultError("ANALISA_VAULT_KEY must decode to 32 bytes (AES-256)")
    return key


class TokenVault:
    def __init__(self, key_b64: str):
        self._aead = AESGCM(_key_bytes(key_b64))

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return _VERSION + nonce + sealed

    def decrypt(self, blob: bytes, *, context: str) -> str:
        if not blob or blob[:1] != _VERSION:
            raise VaultError("unknown ciphertext version")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            plain = self._aead.decrypt(nonce, bytes(sealed), context.encode("utf-8"))
        except Exception as exc:  # InvalidTag: wrong key, tampered data or wrong context
            raise VaultError("token ciphertext does not decrypt with this key and context") from exc
        return plain.decode("utf-8")


def pseudonymise(value: str, key: str) -> str:
    """Keyed hash: stable within one deployment, unlinkable without the key."""
    return hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def new_vault_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()
