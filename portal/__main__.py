"""`python -m portal`: the families' portal on ``SHENHOU_PORTAL_HOST:SHENHOU_PORTAL_PORT`` (uvicorn)."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

import structlog
import uvicorn
from pydantic import ValidationError

from activities.calendar import WorkingDayCalendar
from portal.app import PortalServices, create_app
from register.engine import make_engine
from runtime.keys import load_keys
from runtime.logging import configure_logging
from runtime.policy_file import load_policy
from runtime.settings import Settings, get_settings, invalid_setting_names
from runtime.temporal import connect
from starter.errors import configuration_problem

log = structlog.get_logger()


async def serve(settings: Settings) -> None:
    keys = load_keys(settings)
    policy = load_policy(settings.policy_file)
    zone = ZoneInfo(policy.timezone)

    def today() -> date:
        return datetime.now(zone).date()

    client = await connect(settings, keys)
    engine = make_engine(settings.register_url)
    services = PortalServices(settings=settings, policy=policy, keys=keys, client=client, engine=engine,
                              calendar=WorkingDayCalendar.from_file(settings.holiday_path), today=today)
    config = uvicorn.Config(
        create_app(services), host=settings.portal_host, port=settings.portal_port, log_config=None,
        access_log=False, proxy_headers=True, forwarded_allow_ips=settings.portal_forwarded_allow_ips,
        server_header=False,
    )
    log.info("portal_started", url=f"http://{settings.portal_host}:{settings.portal_port}")
    try:
        await uvicorn.Server(config).serve()
    finally:
        engine.dispose()


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
