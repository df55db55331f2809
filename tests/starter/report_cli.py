"""Running `shenhou report` in-process against a register folder (no Temporal needed: it reads the register)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from typer.testing import CliRunner, Result

from runtime.settings import get_settings
from starter.cli import app


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """The CLI configures logging for the process; give the rest of the session its own back."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    config = structlog.get_config()
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.configure(**config)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """SHENHOU_DATA_DIR for the CLI: its register is ``data_dir / "register.db"``."""
    monkeypatch.setenv("SHENHOU_DATA_DIR", str(tmp_path))
    for name in ("SHENHOU_DATABASE_URL", "SHENHOU_POLICY_FILE"):
        monkeypatch.delenv(name, raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def report(*args: str) -> Result:
    get_settings.cache_clear()
    return CliRunner().invoke(app, ["report", *args])
