"""Connecting to Temporal with the project's data converter (pydantic, encrypted payloads), over TLS (with a
client certificate for mTLS) when the settings ask for it."""

from __future__ import annotations

from pathlib import Path

from temporalio.client import Client
from temporalio.service import TLSConfig

from runtime.codec import codec_from_keys, data_converter
from runtime.keys import Keys
from runtime.settings import Settings


class TlsSettingsError(ValueError):
    """The SHENHOU_TEMPORAL_TLS_* settings are incomplete or name files that cannot be read."""


def _read(path: Path, setting: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise TlsSettingsError(f"{setting}={path}: {err.strerror or err}") from None


def tls_config(settings: Settings) -> TLSConfig | bool:
    """``False`` for plain connections (the local dev server); otherwise the client's TLS configuration."""
    cert, key = settings.temporal_tls_cert, settings.temporal_tls_key
    if (cert is None) != (key is None):
        raise TlsSettingsError("SHENHOU_TEMPORAL_TLS_CERT and SHENHOU_TEMPORAL_TLS_KEY must be set together")
    if settings.temporal_tls_ca is None and cert is None and not settings.temporal_tls_server_name:
        return False
    return TLSConfig(
        # None: the system's trusted roots.
        server_root_ca_cert=_read(settings.temporal_tls_ca, "SHENHOU_TEMPORAL_TLS_CA")
        if settings.temporal_tls_ca is not None
        else None,
        client_cert=_read(cert, "SHENHOU_TEMPORAL_TLS_CERT") if cert is not None else None,
        client_private_key=_read(key, "SHENHOU_TEMPORAL_TLS_KEY") if key is not None else None,
        domain=settings.temporal_tls_server_name or None,
    )


async def connect(settings: Settings, keys: Keys, *, worker: bool = False) -> Client:
    codec = codec_from_keys(keys, lenient=worker) if settings.codec_enabled else None
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.namespace,
        data_converter=data_converter(codec),
        tls=tls_config(settings),
    )
