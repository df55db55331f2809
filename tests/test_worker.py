"""`python -m worker` started with a configuration it cannot use: one Chinese line and exit code 3, so
runtime/up (and an operator) can tell a mistake to fix from a service to start again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from runtime.keys import Keys

ROOT = Path(__file__).resolve().parents[1]
# Nothing listens at port 1: every configuration error below is found before connecting.
NOWHERE = "127.0.0.1:1"


def run_worker(tmp_path: Path, module: str = "worker", **settings: str) -> subprocess.CompletedProcess[str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("SHENHOU_")}
    env |= {"SHENHOU_DATA_DIR": str(tmp_path / "data"), "SHENHOU_TEMPORAL_ADDRESS": NOWHERE, **settings}
    return subprocess.run([sys.executable, "-m", module], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=False)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    told = result.stderr.strip()
    assert "\n" not in told and "Traceback" not in told, told
    return told


@pytest.mark.parametrize(
    ("setting", "text", "told"),
    [
        ("SHENHOU_POLICY_FILE", "ladder: {reminder_every_working_days: 0}\ncontacts: {supervisor: 13912345678}\n",
         "worker未启动，政策配置文件有误"),
        ("SHENHOU_HOLIDAY_FILE", "2027:\n  holidays: [2027-02-30]\n", "worker未启动，节假日覆盖文件有误"),
    ],
)
def test_a_bad_county_file_stops_the_worker_with_exit_3(tmp_path: Path, setting: str, text: str, told: str) -> None:
    path = tmp_path / "county.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_worker(tmp_path, **{setting: str(path)})
    assert result.returncode == 3, result.stderr
    line = _one_line(result)
    assert line.startswith(told) and str(path) in line
    assert "13912345678" not in line


def test_a_missing_holiday_file_stops_the_worker_with_exit_3(tmp_path: Path) -> None:
    result = run_worker(tmp_path, SHENHOU_HOLIDAY_FILE=str(tmp_path / "holidays.yaml"))
    assert result.returncode == 3
    assert _one_line(result).startswith("worker未启动，节假日覆盖文件有误")


def test_bad_keys_and_settings_exit_3(tmp_path: Path) -> None:
    keys = run_worker(tmp_path, SHENHOU_CASE_ID_KEY="not base64!", SHENHOU_CODEC_KEYS="k1:also-not-base64")
    assert keys.returncode == 3 and _one_line(keys).startswith("worker未启动，密钥配置有误")
    setting = run_worker(tmp_path, SHENHOU_CODEC_SERVER_PORT="eighty")
    assert setting.returncode == 3 and _one_line(setting) == "worker未启动，环境变量配置有误：SHENHOU_CODEC_SERVER_PORT"


def test_temporal_not_reachable_exits_2_to_be_started_again(tmp_path: Path) -> None:
    result = run_worker(tmp_path)
    assert result.returncode == 2
    assert _one_line(result) == f"worker未启动，无法连接Temporal服务（{NOWHERE}）"


@pytest.mark.parametrize(("module", "name"), [("portal", "网上申请门户"), ("notify.dispatcher", "通知发送程序")])
def test_the_portal_and_the_dispatcher_tell_a_bad_configuration_as_the_worker_does(
    tmp_path: Path, module: str, name: str
) -> None:
    (tmp_path / "data").mkdir()
    path = tmp_path / "county.yaml"
    path.write_text("ladder: {reminder_every_working_days: 0}\ncontacts: {supervisor: 13912345678}\n", encoding="utf-8")
    result = run_worker(tmp_path, module, SHENHOU_POLICY_FILE=str(path))
    assert result.returncode == 3, result.stderr
    line = _one_line(result)
    assert line.startswith(f"{name}未启动，政策配置文件有误") and str(path) in line
    assert "13912345678" not in line
    setting = run_worker(tmp_path, module, SHENHOU_PORTAL_PORT="eighty", SHENHOU_DISPATCHER_BATCH_SIZE="many")
    assert setting.returncode == 3 and _one_line(setting).startswith(f"{name}未启动，环境变量配置有误：SHENHOU_")


def test_material_links_go_where_the_settings_say_and_never_to_loopback_when_officers_sign_in(
    tmp_path: Path, keys: Keys
) -> None:
    from domain.enums import Issuer
    from runtime.settings import Settings
    from runtime.signing import public_key_text
    from worker import dependencies_from

    def link(**settings: object) -> str | None:
        deps = dependencies_from(Settings(data_dir=tmp_path, **settings), keys)  # type: ignore[arg-type]
        deps.engine.dispose()
        return deps.policy.scan_url

    assert link() == "http://127.0.0.1:8081/materials/"  # the embedded default's own codec server
    assert link(scan_url="https://staff.example/codec/materials/") == "https://staff.example/codec/materials/"
    production = {"require_verified_officers": True,
                  "officer_public_keys": public_key_text(keys.signing_keys[Issuer.OFFICER])}
    assert link(**production) is None  # no link to the officer's own machine
