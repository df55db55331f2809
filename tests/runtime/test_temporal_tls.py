"""TLS to the Temporal frontend: the SHENHOU_TEMPORAL_TLS_* settings reach the client, and a client using
certificates from deploy/make-pilot-ca.sh talks to a frontend that requires client certificates (mTLS).

The dev server speaks no TLS itself, so Debian's nginx stands in front of it as the TLS endpoint
(``ssl_verify_client on``, ``grpc_pass`` to the dev server): real TLS and a real server behind it.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.service import TLSConfig
from temporalio.testing import WorkflowEnvironment

from runtime.keys import Keys
from runtime.settings import Settings
from runtime.temporal import TlsSettingsError, connect, tls_config
from tests.conftest import temporal_binary

ROOT = Path(__file__).resolve().parents[2]
MAKE_CA = ROOT / "deploy" / "make-pilot-ca.sh"


def settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pki")
    subprocess.run([str(MAKE_CA), str(out)], check=True, capture_output=True, env={**os.environ, "PUBLIC_HOST": "x"})
    return out


def test_plain_connection_without_tls_settings() -> None:
    assert tls_config(settings()) is False


def test_tls_settings_reach_the_client_config(pki: Path) -> None:
    config = tls_config(
        settings(
            temporal_tls_ca=pki / "ca.pem",
            temporal_tls_cert=pki / "worker" / "client.pem",
            temporal_tls_key=pki / "worker" / "client.key",
            temporal_tls_server_name="temporal",
        )
    )
    assert isinstance(config, TLSConfig)
    assert config.server_root_ca_cert == (pki / "ca.pem").read_bytes()
    assert config.client_cert == (pki / "worker" / "client.pem").read_bytes()
    assert config.client_private_key == (pki / "worker" / "client.key").read_bytes()
    assert config.domain == "temporal"

    # A server name alone: TLS against the system's trusted roots.
    public = tls_config(settings(temporal_tls_server_name="temporal.example"))
    assert isinstance(public, TLSConfig)
    assert public.server_root_ca_cert is None
    assert public.client_cert is None


def test_incomplete_tls_settings_are_refused_with_the_setting_named(pki: Path) -> None:
    with pytest.raises(TlsSettingsError, match="TLS_CERT and SHENHOU_TEMPORAL_TLS_KEY"):
        tls_config(settings(temporal_tls_cert=pki / "worker" / "client.pem"))
    with pytest.raises(TlsSettingsError, match="SHENHOU_TEMPORAL_TLS_CA"):
        tls_config(settings(temporal_tls_ca=pki / "missing.pem"))


def _nginx() -> str:
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None)
    if found is None:
        reason = "nginx is not installed (scripts/test installs Debian's nginx-light)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def mtls_frontend(env: WorkflowEnvironment, pki: Path, tmp_path: Path) -> Iterator[str]:
    """``localhost:PORT``: TLS with the pilot's server certificate, client certificates required."""
    nginx = _nginx()
    upstream = env.client.service_client.config.target_host
    port = _free_port()
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"""
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {tmp_path}/body;
    proxy_temp_path {tmp_path}/proxy;
    fastcgi_temp_path {tmp_path}/fastcgi;
    uwsgi_temp_path {tmp_path}/uwsgi;
    scgi_temp_path {tmp_path}/scgi;
    server {{
        listen 127.0.0.1:{port} ssl http2;
        ssl_certificate {pki}/temporal/server.pem;
        ssl_certificate_key {pki}/temporal/server.key;
        ssl_client_certificate {pki}/ca.pem;
        ssl_verify_client on;
        location / {{ grpc_pass grpc://{upstream}; }}
    }}
}}
"""
    )
    proc = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(tmp_path), "-e", str(tmp_path / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {(tmp_path / 'error.log').read_text(errors='replace')}")
                time.sleep(0.05)
        yield f"localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=20)


async def test_client_with_pilot_certificates_talks_to_an_mtls_frontend(
    mtls_frontend: str, pki: Path, keys: Keys
) -> None:
    good = settings(
        temporal_address=mtls_frontend,
        temporal_tls_ca=pki / "ca.pem",
        temporal_tls_cert=pki / "cli" / "client.pem",
        temporal_tls_key=pki / "cli" / "client.key",
    )
    client = await asyncio.wait_for(connect(good, keys), timeout=60)
    assert (await client.count_workflows("WorkflowType = 'no-such-type'")).count == 0

    # The same server without a client certificate, or trusted through the wrong CA, is refused.
    no_cert = settings(temporal_address=mtls_frontend, temporal_tls_ca=pki / "ca.pem")
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(connect(no_cert, keys), timeout=60)
    wrong_ca = settings(
        temporal_address=mtls_frontend,
        temporal_tls_ca=pki / "web" / "server.pem",
        temporal_tls_cert=pki / "cli" / "client.pem",
        temporal_tls_key=pki / "cli" / "client.key",
    )
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(connect(wrong_ca, keys), timeout=60)


async def test_cluster_setup_script_over_mtls(mtls_frontend: str, pki: Path, keys: Keys) -> None:
    """deploy/register-search-attributes.sh (the temporal-setup service) against an mTLS frontend."""
    namespace = f"pilot-{os.urandom(4).hex()}"
    env = {
        **os.environ,
        "PATH": f"{Path(temporal_binary()).parent}:{os.environ['PATH']}",
        "TEMPORAL_ADDRESS": mtls_frontend,
        "TEMPORAL_NAMESPACE": namespace,
        "TLS_CA": str(pki / "ca.pem"),
        "TLS_CERT": str(pki / "admin" / "client.pem"),
        "TLS_KEY": str(pki / "admin" / "client.key"),
    }
    proc = await asyncio.create_subprocess_exec(
        "sh", str(ROOT / "deploy" / "register-search-attributes.sh"),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await asyncio.wait_for(proc.communicate(), timeout=120)
    assert proc.returncode == 0, output.decode()[-2000:]

    client = await connect(
        settings(
            temporal_address=mtls_frontend,
            namespace=namespace,
            temporal_tls_ca=pki / "ca.pem",
            temporal_tls_cert=pki / "cli" / "client.pem",
            temporal_tls_key=pki / "cli" / "client.key",
        ),
        keys,
    )
    described = await client.workflow_service.describe_namespace(DescribeNamespaceRequest(namespace=namespace))
    assert described.config.workflow_execution_retention_ttl.ToTimedelta() == timedelta(days=30)
    listed = await client.operator_service.list_search_attributes(ListSearchAttributesRequest(namespace=namespace))
    assert {"ShenhouCaseNumber", "ShenhouDaysOverdue", "ShenhouDeadline"} <= set(listed.custom_attributes)
