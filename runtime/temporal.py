"""Connecting to Temporal with the project's data converter (pydantic, encrypted payloads)."""

from __future__ import annotations

from temporalio.client import Client

from runtime.codec import codec_from_keys, data_converter
from runtime.keys import Keys
from runtime.settings import Settings


async def connect(settings: Settings, keys: Keys, *, worker: bool = False) -> Client:
    codec = codec_from_keys(keys, lenient=worker) if settings.codec_enabled else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.namespace,
        data_converter=data_converter(codec),
    )
