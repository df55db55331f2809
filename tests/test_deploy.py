"""The production shape registers the same search attributes as the embedded default."""

from __future__ import annotations

from pathlib import Path

import yaml

from runtime.devserver import search_attribute_flags

ROOT = Path(__file__).resolve().parent.parent


def test_cluster_setup_registers_every_search_attribute() -> None:
    script = (ROOT / "deploy" / "register-search-attributes.sh").read_text()
    flags = search_attribute_flags()
    for spec in flags[1::2]:
        assert spec in script, f"{spec} missing from deploy/register-search-attributes.sh"


def test_compose_runs_worker_against_postgres_register() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgresql", "temporal", "temporal-ui", "worker", "codec-server"} <= set(services)
    assert services["worker"]["environment"]["SHENHOU_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert services["temporal-ui"]["environment"]["TEMPORAL_CODEC_ENDPOINT"]
