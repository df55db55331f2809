"""Sealing sensitive personal data at rest in the case register (身份证号, phone and bank card numbers).

A sealed value is one printable string::

    sealed:v1:<key id>:<base64url without padding of nonce (12 bytes) || AES-256-GCM ciphertext and tag>

The key ring is the payload codec's (``Keys.codec_keys`` and ``Keys.active_key_id``, runtime/keys.py): the
same ids, the same active key and the same rotation. The register does not use a codec key itself but a key
derived from it with HKDF-SHA256 (info ``shenhou register sealing v1``), so one secret never serves two
ciphers and the register's sealed values cannot be opened by feeding them to the codec server. A value names
its key id, so rows sealed before a rotation stay readable while that id is configured, and
``shenhou keys rotate`` (register/rotation.py) re-seals them under the active key.

Every value is sealed for one place (AES-GCM associated data: table, row and field, see
register/sealed_fields.py): a sealed card number copied into another case or another field does not open.

A stored value without the prefix was written before sealing existed: it reads as clear text, and
``shenhou keys rotate`` seals it.

Lookups that need a sensitive value compare ``lookup_hash`` values: HMAC-SHA256 under a key derived from the
case-number key, which never rotates (case numbers depend on it), so a stored hash stays valid across key
rotations.

Library: ``cryptography`` (>= 43, already the payload codec's): AESGCM and HKDF, nothing hand-rolled.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from collections.abc import Mapping

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from runtime.keys import KeyError_, Keys

PREFIX = "sealed:v1:"
BLOB_PREFIX = b"shenhou-sealed-file:v1:"
# Where scans are sealed (the portal's uploads and the materials store they go to).
SCAN_PLACE = "portal scan"
NONCE_SIZE = 12
_TAG_SIZE = 16
_KEY_SIZE = 32
_SEALING_INFO = b"shenhou register sealing v1"
_LOOKUP_LABEL = b"shenhou register lookup-hash key v1"
EPHEMERAL_KEY_ID = "ephemeral"


class UnsealError(KeyError_):
    """A sealed value cannot be opened: its key id is not configured, or it was altered or moved.

    The message names the key id and the place, never the value; it is safe to print and to log.
    """


def derived_sealing_key(codec_key: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=_KEY_SIZE, salt=None, info=_SEALING_INFO).derive(codec_key)


def derived_lookup_key(case_id_key: bytes) -> bytes:
    return hmac.new(case_id_key, _LOOKUP_LABEL, hashlib.sha256).digest()


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def key_id_of(stored: str) -> str | None:
    """The key id a stored value is sealed under; None for a clear (legacy) value."""
    if not is_sealed(stored):
        return None
    key_id, _, _ = stored[len(PREFIX):].rpartition(":")
    return key_id


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sealer:
    """Seals and opens the register's sensitive values; built from the loaded keys, never at import."""

    def __init__(self, codec_keys: Mapping[str, bytes], active_key_id: str, lookup_key: bytes) -> None:
        if not codec_keys:
            raise KeyError_("no encryption key configured for the register")
        for key_id, key in codec_keys.items():
            if not key_id:
                raise KeyError_("encryption key ids must not be empty")
            if len(key) != _KEY_SIZE:
                raise KeyError_(f"encryption key {key_id!r} must be {_KEY_SIZE} bytes, got {len(key)}")
        if active_key_id not in codec_keys:
            raise KeyError_(f"active key id {active_key_id!r} is not among the configured keys")
        if len(lookup_key) < _KEY_SIZE:
            raise KeyError_("the lookup-hash key must be at least 32 bytes")
        self._ciphers = {key_id: AESGCM(derived_sealing_key(key)) for key_id, key in codec_keys.items()}
        self._active_key_id = active_key_id
        self._lookup_key = lookup_key

    @classmethod
    def from_keys(cls, keys: Keys) -> Sealer:
        return cls(keys.codec_keys, keys.active_key_id, derived_lookup_key(keys.case_id_key))

    @classmethod
    def ephemeral(cls) -> Sealer:
        """A sealer with fresh random keys of its own: what it seals nobody else can open, and it opens only
        clear (legacy) values besides its own. The default of code paths built without keys (tests and
        tools that never read back); the worker always gets one from the configured keys."""
        return cls({EPHEMERAL_KEY_ID: secrets.token_bytes(_KEY_SIZE)}, EPHEMERAL_KEY_ID, secrets.token_bytes(32))

    @property
    def active_key_id(self) -> str:
        return self._active_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._ciphers)

    def seal(self, value: str, place: str) -> str:
        """``value`` sealed under the active key for ``place`` (where it is stored)."""
        nonce = os.urandom(NONCE_SIZE)
        ciphertext = self._ciphers[self._active_key_id].encrypt(nonce, value.encode("utf-8"), place.encode("utf-8"))
        return f"{PREFIX}{self._active_key_id}:{_b64encode(nonce + ciphertext)}"

    def unseal(self, stored: str, place: str) -> str:
        """The clear value of ``stored`` (read at ``place``); a clear legacy value is returned as it is."""
        if not is_sealed(stored):
            return stored
        key_id, _, blob = stored[len(PREFIX):].rpartition(":")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise UnsealError(f"the value at {place} is sealed under key id {key_id!r}, which is not configured")
        try:
            raw = _b64decode(blob)
        except (binascii.Error, ValueError):
            raise UnsealError(f"the sealed value at {place} is not valid base64") from None
        if len(raw) < NONCE_SIZE + _TAG_SIZE:
            raise UnsealError(f"the sealed value at {place} is truncated")
        try:
            clear = cipher.decrypt(raw[:NONCE_SIZE], raw[NONCE_SIZE:], place.encode("utf-8"))
        except InvalidTag:
            raise UnsealError(
                f"the sealed value at {place} does not open with key id {key_id!r} (altered, or moved from elsewhere)"
            ) from None
        return clear.decode("utf-8")

    def seal_bytes(self, data: bytes, place: str) -> bytes:
        """``data`` (a scanned file) sealed under the active key for ``place``: ``BLOB_PREFIX``, the key id,
        a newline, then nonce || ciphertext and tag. Files live outside the register, sealed with its keys."""
        nonce = os.urandom(NONCE_SIZE)
        ciphertext = self._ciphers[self._active_key_id].encrypt(nonce, data, place.encode("utf-8"))
        return BLOB_PREFIX + self._active_key_id.encode("utf-8") + b"\n" + nonce + ciphertext

    def unseal_bytes(self, stored: bytes, place: str) -> bytes:
        if not stored.startswith(BLOB_PREFIX):
            raise UnsealError(f"the file at {place} is not sealed")
        key_id, newline, rest = stored[len(BLOB_PREFIX):].partition(b"\n")
        cipher = self._ciphers.get(key_id.decode("utf-8", "replace"))
        if not newline or cipher is None:
            raise UnsealError(f"the file at {place} is sealed under a key id that is not configured")
        if len(rest) < NONCE_SIZE + _TAG_SIZE:
            raise UnsealError(f"the sealed file at {place} is truncated")
        try:
            return cipher.decrypt(rest[:NONCE_SIZE], rest[NONCE_SIZE:], place.encode("utf-8"))
        except InvalidTag:
            raise UnsealError(f"the sealed file at {place} does not open (altered, or moved from elsewhere)") from None

    def is_current(self, stored: str) -> bool:
        """Sealed under the active key (nothing for a rotation to do)."""
        return key_id_of(stored) == self._active_key_id

    def resealed(self, stored: str, place: str) -> str | None:
        """``stored`` sealed under the active key; None when it already is. A clear value gets sealed."""
        if self.is_current(stored):
            return None
        return self.seal(self.unseal(stored, place), place)

    def lookup_hash(self, value: str) -> str:
        """A keyed hash to find rows by a sensitive value without storing it (hex, 64 characters)."""
        normalised = value.strip().upper().encode("utf-8")
        return hmac.new(self._lookup_key, normalised, hashlib.sha256).hexdigest()
