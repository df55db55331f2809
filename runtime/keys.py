"""Key material: the case-number key, the payload encryption keys, the query-code key and the statement
signing keys.

The signing keys (``runtime/signing.py``) are Ed25519 seeds of the issuers whose word moves money or a payee:
the paying system and the window. In the embedded default the keys file holds them, so the CLI can stand in
for both, and the worker trusts their public halves. In production the worker is given only public keys
(``SHENHOU_PAYING_SYSTEM_PUBLIC_KEYS``, ``SHENHOU_WINDOW_PUBLIC_KEYS``) and each issuer keeps its own seed.
The officer key (``Issuer.OFFICER``) is the codec server's: it signs who decided (domain/officers.py);
workers trust ``SHENHOU_OFFICER_PUBLIC_KEYS``. The portal's key (``Issuer.PORTAL``) signs what a signed-in
applicant adds to their own online case; workers trust ``SHENHOU_PORTAL_PUBLIC_KEYS``.

The query-code key (``domain/query_code.py``) has its own value: ``SHENHOU_QUERY_CODE_KEY``, else
``query_code_key`` in the keys file, else (a keys file from before it existed, or a ``Keys`` built without
it) a value derived from the case-number key, so every process of one installation computes the same code.

Production passes keys through the environment. The embedded default creates them once in the data
folder (owner-only) so a county can start without preparing anything; no key lives in the repository.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from domain.enums import Issuer
from runtime.settings import Settings
from runtime.signing import SigningKeyError, StatementSigner, TrustAnchors

KEYS_FILE = "keys.json"


class KeyError_(Exception):
    """Key material is missing or malformed; the message says which and is safe to print."""


class PayloadKeyMismatch(KeyError_, ValueError):
    """A payload from Temporal cannot be decrypted with the configured keys: this process's keys differ
    from those of the process that wrote it (a missing key id, or another key under the same id).

    A configuration error, not a fault in the data; a ValueError too, so the worker's lenient codec and the
    key canary treat it as any undecryptable payload. ``key_id`` names the key the payload asks for.
    """

    def __init__(self, message: str, key_id: str) -> None:
        super().__init__(message)
        self.key_id = key_id


def derived_query_code_key(case_id_key: bytes) -> bytes:
    return hmac.new(case_id_key, b"shenhou query-code key v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class Keys:
    case_id_key: bytes
    codec_keys: dict[str, bytes]
    active_key_id: str
    # Empty: derived from the case-number key (see the module docstring).
    query_code_key: bytes = field(default=b"", repr=False)
    # Ed25519 seeds per issuer; empty for a process that signs nothing.
    signing_keys: dict[Issuer, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not self.query_code_key:
            object.__setattr__(self, "query_code_key", derived_query_code_key(self.case_id_key))


def _decode(value: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as err:
        raise KeyError_(f"{what} is not valid base64") from err
    if len(raw) != 32:
        raise KeyError_(f"{what} must be 32 bytes (AES-256), got {len(raw)}")
    return raw


def _parse_codec_keys(spec: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key_id, sep, value = item.partition(":")
        if not sep or not key_id:
            raise KeyError_("SHENHOU_CODEC_KEYS must look like 'id1:base64,id2:base64'")
        keys[key_id] = _decode(value, f"codec key {key_id!r}")
    return keys


def _new_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode()


def _load_or_create_file(path: Path) -> dict[str, object]:
    if path.exists():
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise KeyError_(f"cannot read key file {path}: {err}") from err
        if not isinstance(data, dict):
            raise KeyError_(f"key file {path} is not a JSON object")
        return data
    path.parent.mkdir(parents=True, exist_ok=True)
    key_id = "k1"
    data = {"case_id_key": _new_key(), "codec_keys": {key_id: _new_key()}, "active_key_id": key_id,
            "query_code_key": _new_key(), "signing_keys": _new_signing_keys()}
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    return data


def _new_signing_keys() -> dict[str, str]:
    return {issuer.value: _new_key() for issuer in Issuer}


def _add_signing_keys(path: Path, data: dict[str, object]) -> dict[str, object]:
    """A keys file from before statements were signed (or before officers' were) gains the missing signing keys
    once (owner-only, atomically); the keys it holds stay."""
    stored = data.get("signing_keys")
    data = {**data, "signing_keys": {**_new_signing_keys(), **(stored if isinstance(stored, dict) else {})}}
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    os.replace(temporary, path)
    return data


def load_keys(settings: Settings) -> Keys:
    file_data: dict[str, object] = {}
    if not settings.case_id_key or not settings.codec_keys:
        path = settings.data_dir / KEYS_FILE
        file_data = _load_or_create_file(path)
        stored = file_data.get("signing_keys")
        if not isinstance(stored, dict) or any(issuer.value not in stored for issuer in Issuer):
            file_data = _add_signing_keys(path, file_data)

    case_key_text = settings.case_id_key or str(file_data.get("case_id_key", ""))
    if not case_key_text:
        raise KeyError_("no case-number key: set SHENHOU_CASE_ID_KEY or keep data/keys.json")
    case_id_key = _decode(case_key_text, "case-number key")

    if settings.codec_keys:
        codec_keys = _parse_codec_keys(settings.codec_keys)
        active = settings.codec_active_key_id or next(iter(codec_keys), "")
    else:
        raw = file_data.get("codec_keys", {})
        if not isinstance(raw, dict):
            raise KeyError_("codec_keys in the key file must be an object")
        codec_keys = {str(k): _decode(str(v), f"codec key {k!r}") for k, v in raw.items()}
        active = settings.codec_active_key_id or str(file_data.get("active_key_id", ""))
    if not codec_keys:
        raise KeyError_("no payload encryption key configured")
    if active not in codec_keys:
        raise KeyError_(f"active codec key id {active!r} is not among the configured keys")
    return Keys(case_id_key=case_id_key, codec_keys=codec_keys, active_key_id=active,
                query_code_key=_query_code_key(settings, file_data, case_id_key),
                signing_keys=_signing_keys(settings, file_data))


def _signing_keys(settings: Settings, file_data: dict[str, object]) -> dict[Issuer, bytes]:
    configured = {Issuer.PAYING_SYSTEM: settings.paying_system_signing_key,
                  Issuer.WINDOW: settings.window_signing_key, Issuer.OFFICER: settings.officer_signing_key,
                  Issuer.PORTAL: settings.portal_signing_key}
    stored = file_data.get("signing_keys", {})
    if not isinstance(stored, dict):
        raise KeyError_("signing_keys in the key file must be an object")
    seeds: dict[Issuer, bytes] = {}
    for issuer in Issuer:
        text = configured[issuer] or str(stored.get(issuer.value, ""))
        if text:
            seeds[issuer] = _signing_seed(issuer, text)
    return seeds


def _signing_seed(issuer: Issuer, text: str) -> bytes:
    try:
        return StatementSigner.from_text(issuer, text).seed
    except SigningKeyError as err:
        raise KeyError_(str(err)) from err


def signer(keys: Keys, issuer: Issuer) -> StatementSigner:
    """The signer of ``issuer`` this process holds; KeyError_ when it holds none."""
    seed = keys.signing_keys.get(issuer)
    if seed is None:
        variable = f"SHENHOU_{issuer.value.upper()}_SIGNING_KEY"
        raise KeyError_(f"no {issuer.value} signing key: set {variable} or keep data/keys.json")
    return StatementSigner(issuer, seed)


def trust_anchors(settings: Settings, keys: Keys) -> TrustAnchors:
    """The public keys the worker believes: configured ones, else the halves of the keys file's seeds."""
    configured = {Issuer.PAYING_SYSTEM: settings.paying_system_public_keys,
                  Issuer.WINDOW: settings.window_public_keys, Issuer.OFFICER: settings.officer_public_keys,
                  Issuer.PORTAL: settings.portal_public_keys}
    texts: dict[Issuer, list[str]] = {}
    try:
        for issuer in Issuer:
            listed = [part.strip() for part in configured[issuer].split(",") if part.strip()]
            if listed:
                texts[issuer] = listed
        anchors = TrustAnchors.from_public_texts(texts)
    except SigningKeyError as err:
        raise KeyError_(str(err)) from err
    derived = TrustAnchors.from_seeds({i: s for i, s in keys.signing_keys.items() if i not in texts})
    merged = TrustAnchors({**derived.keys, **anchors.keys})
    missing = merged.missing()
    if missing:
        names = ", ".join(f"SHENHOU_{issuer.value.upper()}_PUBLIC_KEYS" for issuer in missing)
        raise KeyError_(f"no public key to check signed statements: set {names}")
    if settings.require_verified_officers and Issuer.OFFICER not in texts:
        # Production: the officer key lives with the codec server only; the worker must be told its public half.
        raise KeyError_("decisions need verified officers but SHENHOU_OFFICER_PUBLIC_KEYS is not set")
    return merged


def _query_code_key(settings: Settings, file_data: dict[str, object], case_id_key: bytes) -> bytes:
    if settings.query_code_key:
        return _decode(settings.query_code_key, "query-code key")
    stored = file_data.get("query_code_key")
    if stored:
        return _decode(str(stored), "query-code key")
    return derived_query_code_key(case_id_key)


def load_query_code_key(settings: Settings) -> bytes:
    """Only the query-code key, for a process that needs no other key (the notification dispatcher)."""
    if settings.query_code_key:
        return _decode(settings.query_code_key, "query-code key")
    return load_keys(settings).query_code_key
