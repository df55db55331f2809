"""Benchmark: the daily sweep for entitlements about to lapse (notify/lapses.py) over a register of N cases.

    .venv/bin/python -m bench.lapses [--cases 10000]

Fills a fresh register (SQLite in a temporary folder by default) with N finished cases of 城乡居民养老保险
pensioners who did not claim the funeral subsidy, then times three sweeps: before the first rung (nothing due),
on the day the first rung falls due for all N (N reminders queued), and the same day again (nothing new).
Prints the seconds of each; nothing is asserted.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, date, datetime

from sqlmodel import Session

from activities.calendar import WorkingDayCalendar
from bench import fixtures
from domain.catalogue import default_catalogue
from domain.enums import PensionStatus
from notify.lapses import LapseSweep
from register.engine import create_schema, make_engine
from register.tables import CaseRow

# The window closes on 2026-09-10; its first rung (20 working days) falls on 2026-08-14.
DIED = "2026-03-10"
DAYS = (date(2026, 8, 12), date(2026, 8, 14), date(2026, 8, 14))


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lapses", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    args = parser.parse_args()
    folder = tempfile.mkdtemp(prefix="bench-lapses-")
    engine = make_engine(f"sqlite:///{folder}/register.db")
    create_schema(engine)
    stored = fixtures.application(1, pension_status=PensionStatus.RESIDENT_PENSIONER.value).model_dump(mode="json")
    stored["deceased"]["death_date"], stored["matters"] = DIED, ["police.hukou_cancellation"]
    at = datetime(2026, 3, 12, 1, tzinfo=UTC)
    with Session(engine) as session:
        for index in range(args.cases):
            session.add(CaseRow(case_number=f"SH-BENCH{index:07d}", channel="window", state="办结",
                                application=stored, received_at=at, updated_at=at))
        session.commit()
    sweep = LapseSweep(engine, WorkingDayCalendar(), default_catalogue(), "Asia/Shanghai")
    for day in DAYS:
        started = time.perf_counter()
        queued = sweep.sweep(day, datetime.combine(day, datetime.min.time(), UTC))
        print(f"RESULT cases={args.cases} day={day} queued={queued} seconds={time.perf_counter() - started:.2f}")


if __name__ == "__main__":
    main()
