"""`shenhou catalogue schema|check` and every command under a county's catalogue (SHENHOU_CATALOGUE_FILE)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from domain.catalogue import default_catalogue, use_catalogue
from runtime.settings import get_settings
from starter.cli import app
from starter.errors import ExitCode
from tests.catalogues import default_data, with_traffic


@pytest.fixture(autouse=True)
def _default_afterwards() -> Iterator[None]:
    yield
    use_catalogue(default_catalogue())
    get_settings.cache_clear()


def invoke(*args: str) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(app, list(args))


def _write(path: Path, data: object) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_schema_is_printed_as_json_schema() -> None:
    result = invoke("catalogue", "schema")
    assert result.exit_code == ExitCode.OK
    schema = json.loads(result.stdout)
    assert schema["title"] == "Catalogue" and "MatterEntry" in schema["$defs"]


def test_check_lists_every_problem_one_line_each_and_exits_3(tmp_path: Path) -> None:
    data = default_data()
    data["matters"][1]["department"] = "nope"
    data["matters"][2]["required_materials"] = ["driving_licence"]
    result = invoke("catalogue", "check", str(_write(tmp_path / "county.yaml", data)))
    assert result.exit_code == ExitCode.CONFIG
    assert "事项“hrss.enterprise_retiree_death_benefit”：所属部门“nope”未在目录中定义" in result.stderr
    assert "事项“hrss.enterprise_employee_death_benefit”：材料“driving_licence”未在materials中定义" in result.stderr
    good = invoke("catalogue", "check", str(_write(tmp_path / "good.yaml", default_data())))
    assert good.exit_code == ExitCode.OK and "12项事项启用" in good.stdout


def test_commands_run_under_the_countys_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    county = _write(tmp_path / "county.yaml", with_traffic().model_dump(mode="json", exclude_defaults=True))
    monkeypatch.setenv("SHENHOU_CATALOGUE_FILE", str(county))
    monkeypatch.setenv("SHENHOU_DATA_DIR", str(tmp_path / "data"))
    listed = invoke("matters", "--json")
    assert listed.exit_code == ExitCode.OK, listed.stderr
    [traffic] = [m for m in json.loads(listed.stdout) if m["department"] == "traffic"]
    assert traffic["code"] == "traffic.driving_licence_cancellation"
    assert traffic["department_name"] == "公安局交通管理大队"
    # A county catalogue that cannot be used stops every command, with its problems (exit 3).
    broken = default_data()
    del broken["departments"]
    monkeypatch.setenv("SHENHOU_CATALOGUE_FILE", str(_write(tmp_path / "broken.yaml", broken)))
    refused = invoke("matters")
    assert refused.exit_code == ExitCode.CONFIG
    assert "departments：缺少必填项" in refused.stderr
