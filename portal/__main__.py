"""`python -m portal`: the families' portal on ``SHENHOU_PORTAL_HOST:SHENHOU_PORTAL_PORT`` (uvicorn)."""

from __future__ import annotations

import asyncio
import dataclasses
import sys
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import structlog
import uvicorn
from pydantic import ValidationError

from activities.calendar import WorkingDayCalendar
from client.errors import configuration_problem
from domain.enums import Issuer
from portal.app import PortalServices, create_app
from portal.scans import purge_old
from portal.signin import Provider, SignIn, SignInSettingsError
from register.engine import make_engine
from runtime.keys import KeyError_, Keys, load_keys
from runtime.logging import configure_logging
from runtime.materials import materials_dir
from runtime.policy_file import load_county
from runtime.settings import Settings, get_settings, invalid_setting_names
from runtime.temporal import connect

log = structlog.get_logger()
RETENTION_EVERY_SECONDS = 3600.0


def portal_keys(settings: Settings) -> Keys:
    """The keys the portal's pages need (docs/deploy.md, "What the portal holds"): the case-number key, the
    payload key ring, the query-code key and its own signing seed (what a signed-in applicant adds to their own
    online case). The other issuers' seeds are dropped even when the embedded default's keys file holds them: the
    portal never speaks for the paying system, the window or an officer."""
    keys = load_keys(settings)
    own: dict[Issuer, bytes] = {i: seed for i, seed in keys.signing_keys.items() if i == Issuer.PORTAL}
    if not own:
        raise KeyError_("no portal signing key: set SHENHOU_PORTAL_SIGNING_KEY")
    return dataclasses.replace(keys, signing_keys=own)


async def serve(settings: Settings) -> None:
    keys = portal_keys(settings)
    policy = load_county(settings)
    # The identity provider's settings are checked before anything is connected.
    signin = SignIn(Provider.from_settings(settings))
    zone = ZoneInfo(policy.timezone)

    def today() -> date:
        return datetime.now(zone).date()

    client = await connect(settings, keys)
    engine = make_engine(settings.register_url)
    services = PortalServices(settings=settings, policy=policy, keys=keys, client=client, engine=engine,
                              calendar=WorkingDayCalendar.from_file(settings.holiday_path), today=today,
                              signin=signin)
    config = uvicorn.Config(create_app(services), host=settings.portal_host, port=settings.portal_port,
                            log_config=None, access_log=False, server_header=False,
                            **uvicorn_proxy_options(settings))
    log.info("portal_started", url=f"http://{settings.portal_host}:{settings.portal_port}")
    retention = asyncio.create_task(keep_retention(settings))
    try:
        await uvicorn.Server(config).serve()
    finally:
        retention.cancel()
        engine.dispose()


def uvicorn_proxy_options(settings: Settings) -> dict[str, Any]:
    """X-Forwarded-For and -Proto are read only from the configured trusted proxies; with none configured,
    not at all (uvicorn's own default would trust 127.0.0.1)."""
    if not settings.portal_forwarded_allow_ips.strip():
        return {"proxy_headers": False}
    return {"proxy_headers": True, "forwarded_allow_ips": settings.portal_forwarded_allow_ips}


async def keep_retention(settings: Settings, every_seconds: float = RETENTION_EVERY_SECONDS) -> None:
    """Delete scans past their retention and staged uploads past their time, now and then every hour."""
    while True:
        try:
            scans_deleted = await asyncio.to_thread(
                purge_old, materials_dir(settings), settings.scan_retention_days * 86400)
            staged_deleted = await asyncio.to_thread(
                purge_old, settings.data_dir / "portal-uploads", settings.portal_staging_minutes * 60)
            if scans_deleted or staged_deleted:
                log.info("portal_retention", scans_deleted=scans_deleted, staged_deleted=staged_deleted)
        except OSError as err:
            log.warning("portal_retention_failed", error=type(err).__name__)
        await asyncio.sleep(every_seconds)


def main() -> int:
    try:
        settings = get_settings()
    except ValidationError as err:
        return _not_started(3, f"环境变量配置有误：{'、'.join(invalid_setting_names(err)) or '无法读取'}")
    configure_logging(settings.log_level, settings.log_json)
    try:
        asyncio.run(serve(settings))
    except KeyboardInterrupt:
        pass
    except Exception as err:
        problem = configuration_problem(err)
        if problem is not None:
            return _not_started(3, problem)
        if isinstance(err, SignInSettingsError):
            return _not_started(3, f"统一身份认证配置有误：{err}")
        if isinstance(err, RuntimeError) and str(err).startswith("Failed client connect"):
            # Temporal not reachable yet: runtime/up (or compose) starts the portal again.
            return _not_started(2, f"无法连接Temporal服务（{settings.temporal_address}）")
        if isinstance(err, OSError):
            return _not_started(2, f"{type(err).__name__}：{err.strerror or err}")
        raise
    return 0


def _not_started(code: int, message: str) -> int:
    print(f"网上申请门户未启动，{message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
