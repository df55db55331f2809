"""Property test: whatever file the clerk passes to `case start`, the CLI answers in one clear message
with exit code 1 — no traceback, nothing personal echoed — and never reaches Temporal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from domain.application import validate_application
from domain.models import Application
from domain.policy import Policy
from runtime.settings import get_settings
from starter.cli import app
from tests.factories import APPLICANT_CARD, APPLICANT_ID, APPLICANT_PHONE, DECEASED_ID, TODAY, valid_form

SECRETS = [DECEASED_ID, APPLICANT_ID, APPLICANT_PHONE, APPLICANT_CARD]
leaves = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=30),
    st.sampled_from([*SECRETS, "", "固阳县", "online", "1e309", "-0", "１２３"]),
)


def _mutate(form: dict[str, Any], path: list[str], value: Any) -> dict[str, Any]:
    node: Any = form
    for key in path[:-1]:
        if not isinstance(node, dict) or key not in node:
            return form
        node = node[key]
    if isinstance(node, dict):
        node[path[-1]] = value
    return form


paths = st.sampled_from([
    ["deceased", "id_number"], ["deceased", "death_date"], ["deceased", "household_county"],
    ["applicant", "phone"], ["applicant", "bank_account", "card_number"], ["applicant", "relationship"],
    ["situations", "pension_status"], ["matters"], ["channel"], ["death_certificate"], ["applicant"],
])
forms = st.builds(lambda path, value: _mutate(valid_form(), path, value), paths, leaves)
texts = st.one_of(
    forms.map(lambda f: json.dumps(f, ensure_ascii=False)),
    forms.map(lambda f: yaml.safe_dump(f, allow_unicode=True)),
    st.text(max_size=200),
    st.sampled_from(["{", "[1, 2", "a: [", "\x00\x01", "---\n- 1\n- 2", "null", "42"]),
)


@pytest.fixture
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    # Nothing listens here: a form that got past validation would show up as exit code 2.
    monkeypatch.setenv("SHENHOU_TEMPORAL_ADDRESS", "127.0.0.1:9")
    monkeypatch.setenv("SHENHOU_DATA_DIR", str(tmp_path / "data"))
    get_settings.cache_clear()
    return tmp_path


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=texts, suffix=st.sampled_from([".json", ".yaml"]))
def test_any_form_file_gets_one_clear_answer(offline: Path, text: str, suffix: str) -> None:
    try:
        parsed = json.loads(text) if suffix == ".json" else yaml.safe_load(text)
        assume(not isinstance(validate_application(parsed, Policy(), TODAY), Application))
    except (ValueError, yaml.YAMLError):
        pass
    form = offline / f"form{suffix}"
    form.write_text(text, encoding="utf-8", errors="surrogatepass")
    result = CliRunner().invoke(app, ["case", "start", "--form", str(form)])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    assert result.output.strip(), "no answer"
    assert "Traceback" not in result.output
    for secret in SECRETS:
        assert secret not in result.output
