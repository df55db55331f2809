"""Benchmark: the supervisor's report over a year of cases.

    .venv/bin/python -m bench.report --cases 20000
    .venv/bin/python -m bench.report --cases 20000 --database-url postgresql+psycopg://user:pw@host/db

Fills a fresh register (SQLite in a temporary folder unless ``--database-url`` names an empty database)
with made-up cases over 2026 (``bench.register_rows``), then times ``build_report`` in-process (the SQL
alone) and the command a supervisor types, ``shenhou report --json`` and ``shenhou report --html FILE``,
as separate processes (start-up, policy, SQL, charts and writing included). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from bench.register_rows import TZ, fill
from register.engine import create_schema, make_engine
from register.report import Period, build_report

FIRST, LAST = date(2026, 1, 1), date(2026, 12, 31)
AS_OF = datetime(2026, 12, 31, 18, 0, tzinfo=TZ)


def _shenhou() -> str:
    return str(Path(sys.executable).parent / "shenhou")


def _timed(args: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    return time.perf_counter() - started, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--database-url", default="", help="an empty database to fill (default: a SQLite file)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="shenhou-bench-report-") as folder:
        base = Path(folder)
        url = args.database_url or f"sqlite:///{base / 'register.db'}"
        engine = make_engine(url)
        create_schema(engine)
        started = time.perf_counter()
        matters = fill(engine, args.cases, FIRST, LAST, AS_OF, args.seed)
        print(f"register: {engine.dialect.name}, {args.cases} cases, {matters} matters, "
              f"filled in {time.perf_counter() - started:.1f} s")

        period = Period(FIRST, LAST, ZoneInfo("Asia/Shanghai"))
        sql_times = []
        for _ in range(args.runs):
            started = time.perf_counter()
            report = build_report(engine, period, now=AS_OF)
            sql_times.append(time.perf_counter() - started)
        engine.dispose()
        print(f"build_report (SQL, in-process): median {statistics.median(sql_times):.3f} s, "
              f"min {min(sql_times):.3f} s over {args.runs} runs")

        env = {**os.environ, "SHENHOU_DATA_DIR": str(base), "SHENHOU_DATABASE_URL": args.database_url,
               "SHENHOU_LOG_LEVEL": "WARNING"}
        period_args = ["report", "--from", FIRST.isoformat(), "--to", LAST.isoformat()]
        json_times, html_times = [], []
        data: dict[str, object] = {}
        html = base / "report.html"
        for _ in range(args.runs):
            elapsed, done = _timed([_shenhou(), *period_args, "--json"], env)
            if done.returncode != 0:
                sys.exit(f"shenhou report --json failed ({done.returncode}): {done.stdout}{done.stderr}")
            json_times.append(elapsed)
            data = json.loads(done.stdout)
            elapsed, done = _timed([_shenhou(), *period_args, "--html", str(html)], env)
            if done.returncode != 0:
                sys.exit(f"shenhou report --html failed ({done.returncode}): {done.stdout}{done.stderr}")
            html_times.append(elapsed)
        print(f"shenhou report --json: median {statistics.median(json_times):.2f} s, min {min(json_times):.2f} s")
        print(f"shenhou report --html: median {statistics.median(html_times):.2f} s, min {min(html_times):.2f} s, "
              f"{html.stat().st_size / 1024:.0f} KiB")

        total = report.total
        print(f"figures: {total.pushed} matters pushed, {total.decided} decided, on time "
              f"{(total.on_time_rate or 0) * 100:.1f}%, median {total.handling_median_working_days} / p90 "
              f"{total.handling_p90_working_days} working days, {total.open_now} open ({total.overdue_now} overdue), "
              f"{total.supervisions} 督办, 补正 {(total.materials_rate or 0) * 100:.1f}%, paid {total.paid_yuan} yuan")
        for department in report.departments:
            f = department.figures
            print(f"  {department.code:<6} pushed {f.pushed:>6}  on time {(f.on_time_rate or 0) * 100:5.1f}%  "
                  f"median {f.handling_median_working_days}  p90 {f.handling_p90_working_days}")
        months = [(m.month, m.cases_received, m.on_time_rate) for m in report.months]
        print("months (received, on-time rate): " + ", ".join(
            f"{month} {received} {(on_time or 0) * 100:.0f}%" for month, received, on_time in months))
        print(f"JSON: {len(json.dumps(data, ensure_ascii=False))} characters, {len(report.departments)} departments")


if __name__ == "__main__":
    main()
