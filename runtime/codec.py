"""Payload encryption for everything the service stores in Temporal.

Each payload is replaced by one whose data is ``nonce (12 bytes) || AES-256-GCM ciphertext`` of the
serialized original ``Payload`` proto, so the original metadata (encoding, message type) is protected
too. The outer metadata only says ``encoding=binary/encrypted`` and which key was used
(``encryption-key-id``), so payloads written before a key rotation stay readable as long as the old
key remains configured.

Payloads that are not encrypted pass through ``decode`` unchanged: a signal sent from a Web UI or CLI
that does not use the codec server still reaches the workflow.
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import structlog
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import DecodeError
from pydantic import BaseModel, TypeAdapter
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import PydanticJSONPlainPayloadConverter
from temporalio.converter import (
    CompositePayloadConverter,
    DataConverter,
    DefaultFailureConverterWithEncodedAttributes,
    DefaultPayloadConverter,
    JSONPlainPayloadConverter,
    PayloadCodec,
)

from runtime.keys import KeyError_, Keys, PayloadKeyMismatch

ENCODING = b"binary/encrypted"
UNDECRYPTABLE = b"binary/undecryptable"
METADATA_ENCODING = "encoding"
METADATA_KEY_ID = "encryption-key-id"
NONCE_SIZE = 12
log = structlog.get_logger()
KEY_SIZE = 32


class EncryptionCodec(PayloadCodec):
    """AES-256-GCM payload codec with key ids, for key rotation."""

    def __init__(self, keys: Mapping[str, bytes], active_key_id: str, *, lenient: bool = False) -> None:
        if not keys:
            raise ValueError("no payload encryption key configured")
        for key_id, key in keys.items():
            if not key_id:
                raise ValueError("payload encryption key ids must not be empty")
            if len(key) != KEY_SIZE:
                raise ValueError(
                    f"payload encryption key {key_id!r} must be {KEY_SIZE} bytes, got {len(key)}"
                )
        if active_key_id not in keys:
            raise ValueError(
                f"active payload encryption key id {active_key_id!r} is not among the configured keys"
            )
        self._ciphers = {key_id: AESGCM(bytes(key)) for key_id, key in keys.items()}
        self._active_key_id = active_key_id
        self._active_key_id_bytes = active_key_id.encode()
        self._lenient = lenient

    @property
    def active_key_id(self) -> str:
        return self._active_key_id

    @property
    def key_ids(self) -> frozenset[str]:
        return frozenset(self._ciphers)

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._encrypt(payload) for payload in payloads]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [self._decode_one(payload) for payload in payloads]

    def _decode_one(self, payload: Payload) -> Payload:
        if not self._lenient:
            return self._decrypt(payload)
        try:
            return self._decrypt(payload)
        except ValueError as err:
            # The worker's view: a signal anyone can send must not wedge the workflow; it arrives as a
            # marker the workflow refuses. The project's own payloads still fail loudly on conversion.
            log.warning("payload_undecryptable", reason=str(err))
            return Payload(metadata={METADATA_ENCODING: UNDECRYPTABLE})

    def _encrypt(self, payload: Payload) -> Payload:
        cipher = self._ciphers[self._active_key_id]
        nonce = os.urandom(NONCE_SIZE)
        ciphertext = cipher.encrypt(nonce, payload.SerializeToString(), None)
        return Payload(
            metadata={
                METADATA_ENCODING: ENCODING,
                METADATA_KEY_ID: self._active_key_id_bytes,
            },
            data=nonce + ciphertext,
        )

    def _decrypt(self, payload: Payload) -> Payload:
        if payload.metadata.get(METADATA_ENCODING) != ENCODING:
            return payload
        raw_key_id = payload.metadata.get(METADATA_KEY_ID)
        if raw_key_id is None:
            raise ValueError("encrypted payload has no encryption-key-id metadata")
        key_id = raw_key_id.decode("utf-8", errors="replace")
        cipher = self._ciphers.get(key_id)
        if cipher is None:
            raise PayloadKeyMismatch(f"unknown payload encryption key id {key_id!r}", key_id)
        data = payload.data
        # The GCM tag alone is 16 bytes, so anything shorter than nonce + tag cannot be valid.
        if len(data) < NONCE_SIZE + 16:
            raise ValueError(f"encrypted payload with key id {key_id!r} is truncated")
        try:
            plaintext = cipher.decrypt(data[:NONCE_SIZE], data[NONCE_SIZE:], None)
        except InvalidTag:
            raise PayloadKeyMismatch(
                f"cannot decrypt payload with key id {key_id!r}: authentication failed "
                "(wrong key or tampered data)", key_id
            ) from None
        original = Payload()
        try:
            original.ParseFromString(plaintext)
        except DecodeError:
            raise ValueError(
                f"decrypted payload with key id {key_id!r} is not a valid Payload"
            ) from None
        return original


def codec_from_keys(keys: Keys, *, lenient: bool = False) -> EncryptionCodec:
    """`lenient` is for the worker: an undecryptable payload becomes a marker instead of an error."""
    return EncryptionCodec(keys.codec_keys, keys.active_key_id, lenient=lenient)


class _SharedAdaptersJSON(PydanticJSONPlainPayloadConverter):
    """The SDK's pydantic JSON converter, whose type adapters for models (and ``Any``) are kept by the process.

    The SDK makes a payload converter for every workflow it starts, each with an empty cache of type adapters:
    every workflow built the adapters of the results it reads (about six each) again. A model's adapter
    depends on the model alone, so one serves every workflow and activity; any other hint keeps the SDK's
    own cache. What is written and read is the SDK's, byte for byte."""

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        if type_hint is None or type_hint is Any or (isinstance(type_hint, type) and issubclass(type_hint, BaseModel)):
            return _adapter(type_hint if type_hint is not None else Any).validate_json(payload.data)
        return super().from_payload(payload, type_hint)


# Bounded: a model of a module the sandbox re-imports is a new class in every run.
@functools.lru_cache(maxsize=512)
def _adapter(hint: Any) -> TypeAdapter[Any]:
    return TypeAdapter(hint)


class PayloadConverter(CompositePayloadConverter):
    """The SDK's default converters with pydantic's for JSON, as ``temporalio.contrib.pydantic`` composes them.
    Made for every workflow: the converters hold no state of a workflow, so all share one set."""

    def __init__(self) -> None:
        super().__init__(*_CONVERTERS)


_JSON = _SharedAdaptersJSON()
_CONVERTERS = tuple(_JSON if isinstance(converter, JSONPlainPayloadConverter) else converter
                    for converter in DefaultPayloadConverter.default_encoding_payload_converters)


PYDANTIC_CONVERTER = DataConverter(payload_converter_class=PayloadConverter)


def data_converter(codec: EncryptionCodec | None) -> DataConverter:
    """The pydantic data converter, with payload encryption when ``codec`` is given.

    With a codec, failure messages and stack traces are moved into an encoded (hence encrypted)
    attribute too; without one, failures stay plain so they remain readable in the UI. Either
    converter reads failures written by the other.
    """
    if codec is None:
        return PYDANTIC_CONVERTER
    return dataclasses.replace(
        PYDANTIC_CONVERTER,
        payload_codec=codec,
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


CANARY_FILE = "key-canary.bin"


async def check_key_canary(codec: EncryptionCodec, data_dir: Path) -> None:
    """Fail at start-up, not mid-case, when the configured keys cannot read what was written before.

    The first start writes a small payload encrypted with the active key; every later start must be able
    to decrypt it, so dropping or mistyping a key that existing histories need is caught at once.
    """
    path = data_dir / CANARY_FILE
    if path.exists():
        canary = Payload()
        try:
            canary.ParseFromString(path.read_bytes())
            await codec.decode([canary])
        except (DecodeError, ValueError) as err:
            raise KeyError_(
                f"the payload keys cannot decrypt data written earlier ({err}); keep every old key id in "
                "SHENHOU_CODEC_KEYS and make a new one active instead of replacing a key"
            ) from None
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    [encrypted] = await codec.encode([Payload(metadata={"encoding": b"binary/plain"}, data=b"shenhou")])
    path.write_bytes(encrypted.SerializeToString())
