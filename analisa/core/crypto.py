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
_VERSION = b"\x01"  # nonce + sealed, no key id: opened with the current key, then previous ones
_VERSION_KEYED = b"\x02"  # key id (4 bytes) + nonce + sealed
_KID_BYTES = 4


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


def key_id(key_b64: str) -> str:
    """A key's public name: the first bytes of its SHA-256, in hex (never the key itself)."""
    return hashlib.sha256(_key_bytes(key_b64)).digest()[:_KID_BYTES].hex()


class TokenVault:
    """Seals with the current key; opens with whichever configured key a ciphertext names.

    Rotation: set the new key as current and the old one in `previous`, then re-encrypt every
    token (`analisa keys rotate`); afterwards the old key can be dropped.
    """

    def __init__(self, key_b64: str, previous: tuple[str, ...] | list[str] = ()):
        self._aead = AESGCM(_key_bytes(key_b64))
        self.key_id = key_id(key_b64)
        self._by_id = {self.key_id: self._aead}
        for old in previous:
            if old.strip():
                self._by_id.setdefault(key_id(old.strip()), AESGCM(_key_bytes(old.strip())))

    def encrypt(self, plaintext: str, *, context: str) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return _VERSION_KEYED + bytes.fromhex(self.key_id) + nonce + sealed

    def sealed_with(self, blob: bytes) -> str | None:
        """The key id a ciphertext names (None for the older format without one)."""
        if blob[:1] == _VERSION_KEYED:
            return bytes(blob[1 : 1 + _KID_BYTES]).hex()
        return None

    def decrypt(self, blob: bytes, *, context: str) -> str:
        if not blob or blob[:1] not in (_VERSION, _VERSION_KEYED):
            raise VaultError("unknown ciphertext version")
        if blob[:1] == _VERSION_KEYED:
            kid = bytes(blob[1 : 1 + _KID_BYTES]).hex()
            body = blob[1 + _KID_BYTES :]
            aead = self._by_id.get(kid)
            if aead is None:
                raise VaultError(f"sealed with key id {kid}, which is not configured")
            candidates = [aead]
        else:
            body = blob[1:]
            candidates = list(self._by_id.values())
        nonce, sealed = body[:_NONCE_BYTES], body[_NONCE_BYTES:]
        for aead in candidates:
            try:
                plain = aead.decrypt(bytes(nonce), bytes(sealed), context.encode("utf-8"))
            except Exception:  # InvalidTag: wrong key, tampered data or wrong context
                continue
            return plain.decode("utf-8")
        raise VaultError("token ciphertext does not decrypt with this key and context")


def pseudonymise(value: str, key: str) -> str:
    """Keyed hash: stable within one deployment, unlinkable without the key."""
    return hmac.new(key.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def subject_pseudonym(platform: str, account_id: str, key: str) -> str:
    """The name a data subject (one platform account) has in the audit log, the suppression
    list and erasure requests: the same everywhere, the id itself nowhere."""
    return pseudonymise(f"subject:{platform}:{account_id}", key)


def new_vault_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()
