"""`python -m runtime.up`: the whole system on one machine — the Temporal dev server with its Web UI
(persisted to data/temporal.db), the codec server the UI decrypts through, the worker, the families' portal,
the notification dispatcher, and (unless a real identity provider is configured) the local stand-in for the
province's identity sign-in that online applicants sign in with.

Each part runs in its own process (the codec server in this one); a part that dies is started again, except
one that exits with code 3 (its configuration is wrong: starting it again cannot help): then everything stops
and ``up`` exits with code 3, naming the part under the part's own one-line reason. Ctrl-C stops them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys

import structlog
from temporalio.api.enums.v1 import TaskQueueType
from temporalio.api.taskqueue.v1 import TaskQueue
from temporalio.api.workflowservice.v1 import DescribeTaskQueueRequest
from temporalio.service import RPCError

from domain.catalogue import CatalogueError, load_catalogue, use_catalogue
from register.sealing import Sealer
from runtime.codec import check_key_canary, codec_from_keys
from runtime.codec_server import default_origins, serve
from runtime.devserver import DevServerError, command, env_without_proxy, host_port, port_open
from runtime.keys import KeyError_, Keys, load_keys
from runtime.logging import configure_logging
from runtime.materials import MaterialStore, materials_dir
from runtime.settings import Settings, get_settings
from runtime.temporal import connect

log = structlog.get_logger()

RESTART_DELAY_SECONDS = 2.0
# The exit code with which the worker, the portal and the dispatcher say their configuration is wrong.
CONFIG_EXIT_CODE = 3
# Processes started by `up` besides the dev server: module name and what it is.
SERVICES = (("worker", "worker"), ("portal", "portal"), ("notify.dispatcher", "dispatcher"))
STAND_IN_IDP = ("runtime.stand_in_idp", "stand-in identity provider")


def services(settings: Settings) -> tuple[tuple[str, str], ...]:
    """What `up` runs: the stand-in identity provider only while no real one is configured."""
    return SERVICES if settings.portal_oidc_issuer else (*SERVICES, STAND_IN_IDP)


async def _wait_for_port(host: str, port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not port_open(host, port):
        if process.poll() is not None:
            raise DevServerError(f"temporal dev server exited with code {process.returncode}")
        if loop.time() > deadline:
            raise DevServerError(f"temporal dev server did not open {host}:{port} within {seconds:.0f}s")
        await asyncio.sleep(0.2)


class ServiceMisconfigured(Exception):
    """A part exited with CONFIG_EXIT_CODE; the message names the parts, in Chinese."""


async def _keep_running(module: str, name: str, stopping: asyncio.Event, misconfigured: list[str]) -> None:
    """Run ``python -m module`` until asked to stop; start it again if it dies, unless it exits saying its
    configuration is wrong: then record it in ``misconfigured`` and stop everything."""
    while not stopping.is_set():
        process = await asyncio.create_subprocess_exec(sys.executable, "-m", module)
        waiting = asyncio.create_task(process.wait())
        stop = asyncio.create_task(stopping.wait())
        await asyncio.wait({waiting, stop}, return_when=asyncio.FIRST_COMPLETED)
        if stopping.is_set():
            if process.returncode is None:
                # SIGTERM: each part stops on it as on Ctrl-C, and one still importing ends without a traceback.
                process.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(waiting, timeout=20)
                except TimeoutError:
                    process.kill()
            return
        stop.cancel()
        if process.returncode == CONFIG_EXIT_CODE:
            log.error("service_misconfigured", service=name, exit_code=process.returncode)
            misconfigured.append(name)
            stopping.set()
            return
        log.error("service_exited", service=name, exit_code=process.returncode, restart_in=RESTART_DELAY_SECONDS)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), timeout=RESTART_DELAY_SECONDS)


async def up(settings: Settings) -> None:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    keys = load_keys(settings)
    await check_key_canary(codec_from_keys(keys), settings.data_dir)
    codec_url = f"http://127.0.0.1:{settings.codec_server_port}" if settings.codec_enabled else None
    runner = None
    if codec_url:
        runner = await serve(codec_from_keys(keys), "127.0.0.1", settings.codec_server_port,
                             default_origins(settings.ui_port),
                             show_personal_data=settings.codec_show_personal_data,
                             materials=MaterialStore(materials_dir(settings), Sealer.from_keys(keys)))
    host, port = host_port(settings.temporal_address)
    server = None
    if port_open(host, port):
        log.warning("temporal_already_running", address=settings.temporal_address)
    else:
        server = subprocess.Popen(command(settings, codec_endpoint=codec_url), env=env_without_proxy())
        await _wait_for_port(host, port, server)
    print(f"starting: Temporal {settings.temporal_address}, codec server, worker, portal, dispatcher "
          f"(data: {settings.data_dir.resolve()}) ...", flush=True)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    misconfigured: list[str] = []
    try:
        await asyncio.gather(_announce_when_ready(settings, keys, codec_url, stopping, ui=server is not None),
                             *(_keep_running(module, name, stopping, misconfigured)
                               for module, name in services(settings)))
        if misconfigured:
            raise ServiceMisconfigured(f"{'、'.join(misconfigured)}因配置有误未能启动（原因见上），已停止全部服务；"
                                       "改正配置后重新运行 scripts/run")
    finally:
        if runner is not None:
            await runner.cleanup()
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()


async def _worker_polling(settings: Settings, keys: Keys) -> bool:
    """Whether a worker polls the task queue (the worker is up and connected)."""
    try:
        client = await connect(settings, keys)
        answer = await client.workflow_service.describe_task_queue(DescribeTaskQueueRequest(
            namespace=settings.namespace, task_queue=TaskQueue(name=settings.task_queue),
            task_queue_type=TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW))
    except (RPCError, RuntimeError, OSError):
        return False
    return bool(answer.pollers)


async def _announce_when_ready(settings: Settings, keys: Keys, codec_url: str | None, stopping: asyncio.Event,
                               *, ui: bool, seconds: float = 180) -> None:
    """Say where everything is once it answers: the Web UI (``ui``: of the dev server started here), the portal
    and a worker polling for work."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not stopping.is_set():
        up = ((not ui or port_open("127.0.0.1", settings.ui_port)) and port_open("127.0.0.1", settings.portal_port)
              and await _worker_polling(settings, keys))
        if up:
            break
        if loop.time() > deadline:
            log.warning("not_ready_yet", waited_seconds=seconds)
            return
        await asyncio.sleep(0.5)
    if stopping.is_set():
        return
    sms = (settings.sms_gateway_url and "SMS gateway") or f"stand-in SMS file {settings.sms_outbox_path.resolve()}"
    lines = [f"Temporal: {settings.temporal_address}  Web UI: http://localhost:{settings.ui_port}  "
             f"codec: {codec_url or 'off'}",
             f"families' portal: http://{settings.portal_host}:{settings.portal_port}  notifications: {sms}"]
    if not settings.portal_oidc_issuer:
        lines.append(f"sign-in: LOCAL STAND-IN identity provider http://127.0.0.1:{settings.stand_in_idp_port} "
                     "(verifies nobody; set SHENHOU_PORTAL_OIDC_* for the real one)")
    lines.append("ready: all services are up (Ctrl-C stops them)")
    print("\n".join(lines), flush=True)


def main() -> int:
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        # The codec server runs in this process: it reads the county's catalogue too.
        use_catalogue(load_catalogue(settings.catalogue_file))
    except CatalogueError as err:
        print(err, file=sys.stderr)
        return CONFIG_EXIT_CODE
    try:
        asyncio.run(up(settings))
    except ServiceMisconfigured as err:
        print(err, file=sys.stderr)
        return CONFIG_EXIT_CODE
    except (DevServerError, KeyError_) as err:
        print(f"error: {err}", file=sys.stderr)
        return CONFIG_EXIT_CODE
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
