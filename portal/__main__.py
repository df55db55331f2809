"""`python -m portal`: the families' portal on ``SHENHOU_PORTAL_HOST:SHENHOU_PORTAL_PORT`` (uvicorn)."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime
from zoneinfo import ZoneInfo

import structlog
import uvicorn

from activities.calendar import OverrideFileError, WorkingDayCalendar
from portal.app import PortalServices, create_app
from register.engine import make_engine
from runtime.keys import KeyError_, load_keys
from runtime.logging import configure_logging
from runtime.policy_file import PolicyFileError, load_policy
from runtime.settings import Settings, get_settings
from runtime.temporal import connect

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
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        asyncio.run(serve(settings))
    except (KeyError_, PolicyFileError, OverrideFileError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 3
    except (RuntimeError, OSError) as err:
        # Temporal not reachable yet: runtime/up (or compose) starts the portal again.
        print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
