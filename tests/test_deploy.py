"""The production shape registers the same search attributes as the embedded default."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml
from psycopg import errors

from register.engine import create_schema, make_engine
from runtime.devserver import search_attribute_flags
from tests.postgres import PostgresServer, find_bin_dir

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


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return compose


def test_only_the_https_proxy_is_published() -> None:
    services = _compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert services["proxy"]["ports"] == ["443:443", "80:80"]


def test_every_temporal_client_presents_a_certificate() -> None:
    services = _compose()["services"]
    shenhou = {"worker": "worker", "shenhou": "cli", "portal": "portal"}
    for name, folder in shenhou.items():
        env = services[name]["environment"]
        assert env["SHENHOU_TEMPORAL_TLS_CA"] == "/pki/ca.pem"
        assert env["SHENHOU_TEMPORAL_TLS_CERT"] == f"/pki/{folder}/client.pem"
        assert env["SHENHOU_TEMPORAL_TLS_KEY"] == f"/pki/{folder}/client.key"
        assert f"./deploy/pki/{folder}:/pki/{folder}:ro" in services[name]["volumes"]
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_TLS_CERT"] == "/pki/ui/client.pem"
    assert ui["TEMPORAL_TLS_ENABLE_HOST_VERIFICATION"] == "true"
    setup = services["temporal-setup"]["environment"]
    assert setup["TLS_CERT"] == "/pki/admin/client.pem"
    server = services["temporal"]["environment"]
    assert server["TEMPORAL_TLS_REQUIRE_CLIENT_AUTH"] == "true"
    assert server["TEMPORAL_TLS_CLIENT1_CA_CERT"] == "/pki/ca.pem"


def test_codec_server_requires_tokens_from_the_ui_users() -> None:
    services = _compose()["services"]
    ui = services["temporal-ui"]["environment"]
    assert ui["TEMPORAL_AUTH_ENABLED"] == "true"
    assert ui["TEMPORAL_CODEC_PASS_ACCESS_TOKEN"] == "true"
    # The UI sends the token only to an https endpoint; this one is the proxy, under the UI's origin.
    assert ui["TEMPORAL_CODEC_ENDPOINT"].startswith("https://${PUBLIC_HOST")
    codec = services["codec-server"]
    assert {"SHENHOU_CODEC_AUTH_JWKS_URL", "SHENHOU_CODEC_AUTH_ISSUER", "SHENHOU_CODEC_AUTH_AUDIENCE"} <= set(
        codec["environment"]
    )
    assert "SHENHOU_CASE_ID_KEY" not in codec["environment"]
    # Officers are verified: the codec server signs who decided, the workers check it and require it.
    assert codec["environment"]["SHENHOU_REQUIRE_VERIFIED_OFFICERS"] == "true"
    assert "SHENHOU_OFFICER_SIGNING_KEY" in codec["environment"]
    worker = services["worker"]["environment"]
    assert worker["SHENHOU_REQUIRE_VERIFIED_OFFICERS"] == "true" and "SHENHOU_OFFICER_PUBLIC_KEYS" in worker
    assert "SHENHOU_OFFICER_SIGNING_KEY" not in worker
    assert codec["command"][codec["command"].index("--origin") + 1].startswith("https://${PUBLIC_HOST")


def test_worker_data_folder_is_a_named_volume() -> None:
    compose = _compose()
    worker = compose["services"]["worker"]
    data_dir = worker["environment"]["SHENHOU_DATA_DIR"]
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in worker["volumes"]}
    assert mounts[data_dir] in compose["volumes"]


def test_files_the_compose_file_mounts_are_in_the_repository() -> None:
    for service in _compose()["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./") and not source.startswith("./deploy/pki"):
                assert (ROOT / source).exists(), source


def _init_database(postgres_server: PostgresServer, **passwords: str) -> None:
    """Run deploy/postgres-init.sh as the postgres image runs it, with the register's password and ``passwords``."""
    env = {
        **os.environ,
        "PATH": f"{find_bin_dir()}:{os.environ['PATH']}",
        "PGHOST": postgres_server.host,
        "PGPORT": str(postgres_server.port),
        "PGPASSWORD": postgres_server.password,
        "POSTGRES_USER": postgres_server.user,
        "REGISTER_DB_PASSWORD": "pilot-password-1",
        **passwords,
    }
    subprocess.run(["sh", str(ROOT / "deploy" / "postgres-init.sh")], env=env, check=True, capture_output=True)


def test_register_database_init_script_creates_the_login(postgres_server: PostgresServer) -> None:
    _init_database(postgres_server)
    try:
        with psycopg.connect(
            host=postgres_server.host, port=postgres_server.port, user="shenhou", password="pilot-password-1",
            dbname="shenhou",
        ) as conn:
            assert conn.execute("SELECT current_user, current_database()").fetchone() == ("shenhou", "shenhou")
    finally:
        with postgres_server.connect() as admin:
            admin.execute("DROP DATABASE IF EXISTS shenhou WITH (FORCE)")
            admin.execute("DROP ROLE IF EXISTS shenhou")


def test_the_portal_is_reached_through_the_proxy_only_with_its_own_data_folder() -> None:
    compose = _compose()
    services = compose["services"]
    portal = services["portal"]
    assert portal["command"] == ["python", "-m", "portal"]
    assert "ports" not in portal and portal["expose"] == ["8090"]
    env = portal["environment"]
    assert env["SHENHOU_PORTAL_COOKIE_SECURE"] == "true"
    assert env["SHENHOU_QUERY_CODE_KEY"].startswith("${SHENHOU_QUERY_CODE_KEY:?")
    mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in portal["volumes"]}
    assert mounts[env["SHENHOU_DATA_DIR"]] in compose["volumes"]  # the uploaded scans outlive the container
    proxy = services["proxy"]
    assert "portal" in proxy["depends_on"] and proxy["environment"]["PORTAL_HOST"]
    assert "./deploy/pki/portal-web:/etc/nginx/pki/portal-web:ro" in proxy["volumes"]
    template = (ROOT / "deploy" / "nginx" / "shenhou.conf.template").read_text()
    assert "server_name ${PORTAL_HOST};" in template and "proxy_pass http://portal:8090;" in template


def test_scans_attached_with_the_cli_land_in_the_portals_materials_volume() -> None:
    compose = _compose()
    services = compose["services"]

    def data_volume(name: str) -> str:
        service = services[name]
        mounts = {volume.split(":")[1]: volume.split(":")[0] for volume in service["volumes"]}
        mount: str = mounts[service["environment"]["SHENHOU_DATA_DIR"]]
        return mount

    # `docker compose run --rm shenhou case start --form …` removes its container: the scans must not be in it.
    assert data_volume("shenhou") in compose["volumes"]
    assert data_volume("shenhou") == data_volume("portal")


def test_the_dispatcher_needs_the_register_the_query_code_key_and_the_key_ring_only() -> None:
    services = _compose()["services"]
    dispatcher = services["dispatcher"]
    assert dispatcher["command"] == ["python", "-m", "notify.dispatcher"]
    env = dispatcher["environment"]
    assert env["SHENHOU_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert env["SHENHOU_SMS_GATEWAY_URL"].startswith("${SMS_GATEWAY_URL:?")  # no silent stand-in file
    assert env["SHENHOU_QUERY_CODE_KEY"] == services["portal"]["environment"]["SHENHOU_QUERY_CODE_KEY"]
    # The family's phone is sealed in the register under the payload key ring (register/sealing.py).
    assert env["SHENHOU_CODEC_KEYS"] == services["codec-server"]["environment"]["SHENHOU_CODEC_KEYS"]
    assert env["SHENHOU_CODEC_ACTIVE_KEY_ID"] == services["codec-server"]["environment"]["SHENHOU_CODEC_ACTIVE_KEY_ID"]
    assert not {"SHENHOU_CASE_ID_KEY", "SHENHOU_TEMPORAL_ADDRESS"} & set(env)
    # The CLI prints the same code as the portal accepts.
    assert services["shenhou"]["environment"]["SHENHOU_QUERY_CODE_KEY"] == env["SHENHOU_QUERY_CODE_KEY"]


def test_the_image_holds_every_package_the_services_run() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in ("domain", "workflows", "activities", "client", "starter", "runtime", "register", "portal",
                    "notify"):
        assert f"COPY {package} ./{package}" in dockerfile, package
    # The supervisors' report draws Chinese in its charts (starter/report_charts.py looks for Noto Sans CJK).
    assert "fonts-noto-cjk" in dockerfile


def test_the_pilot_ca_issues_the_portal_its_certificates() -> None:
    script = (ROOT / "deploy" / "make-pilot-ca.sh").read_text()
    assert "issue portal shenhou-portal clientAuth" in script
    assert 'issue portal-web "$PORTAL_HOST" serverAuth' in script


def test_the_portals_database_login_reads_cases_and_records_consents_only(postgres_server: PostgresServer) -> None:
    _init_database(postgres_server, PORTAL_DB_PASSWORD="portal-password-1")
    owner = make_engine(f"postgresql+psycopg://shenhou:pilot-password-1@{postgres_server.host}:"
                        f"{postgres_server.port}/shenhou")
    try:
        create_schema(owner)  # as the worker does at start: the portal's grants come with the tables
        with psycopg.connect(host=postgres_server.host, port=postgres_server.port, user="shenhou_portal",
                             password="portal-password-1", dbname="shenhou", autocommit=True) as portal:
            assert portal.execute("SELECT count(*) FROM cases").fetchone() == (0,)
            assert portal.execute("SELECT count(*) FROM matters").fetchone() == (0,)
            portal.execute(
                "INSERT INTO consents (case_number, applicant_id_hash, notice_version, notice_sha256, channel, "
                "consented_at, recorded_at) VALUES ('SH-X', 'h', 'v', 's', 'online', now(), now())")
            # 好差评: the family's rating is recorded and read back (已评价), never changed by the portal.
            portal.execute(
                "INSERT INTO ratings (case_number, subject, department, score, comment, channel, rated_at, attempts) "
                "VALUES ('SH-X', 'case', '', 5, '', 'portal', now(), 0)")
            assert portal.execute("SELECT score FROM ratings").fetchone() == (5,)
            for statement in (
                "SELECT count(*) FROM notification_outbox", "SELECT count(*) FROM payment_ledger",
                "UPDATE cases SET state = 'completed'", "DELETE FROM consents", "UPDATE consents SET channel = 'x'",
                "UPDATE ratings SET score = 1", "DELETE FROM ratings",
                "INSERT INTO audit_events (case_number, key, event, actor, at) VALUES ('SH-X', 'k', 'e', 'a', now())",
                "CREATE TABLE mine (x int)",
            ):
                with pytest.raises(errors.InsufficientPrivilege):
                    portal.execute(statement)
    finally:
        owner.dispose()
        with postgres_server.connect() as admin:
            admin.execute("DROP DATABASE IF EXISTS shenhou WITH (FORCE)")
            admin.execute("DROP ROLE IF EXISTS shenhou_portal")
            admin.execute("DROP ROLE IF EXISTS shenhou")


def test_the_portal_holds_only_what_its_pages_need_and_meets_no_staff_tool() -> None:
    services = _compose()["services"]
    portal, proxy = services["portal"], services["proxy"]
    env = portal["environment"]
    # Its own register login (not the owner's), its own Temporal certificate, no SMS gateway token or address:
    # only the secret the gateway presents when it posts replies (退订).
    assert env["SHENHOU_DATABASE_URL"].startswith("postgresql+psycopg://shenhou_portal:")
    assert env["SHENHOU_TEMPORAL_TLS_CERT"] == "/pki/portal/client.pem"
    assert [name for name in env if "SMS" in name] == ["SHENHOU_SMS_REPLY_TOKEN"]
    assert env["SHENHOU_SMS_REPLY_TOKEN"] == "${SMS_REPLY_TOKEN:-}"
    # Its own signing key (additions to a signed-in applicant's online case), never another issuer's.
    assert set(name for name in env if name.endswith("_KEY") or name.endswith("_KEYS")) == {
        "SHENHOU_CASE_ID_KEY", "SHENHOU_CODEC_KEYS", "SHENHOU_QUERY_CODE_KEY", "SHENHOU_TEMPORAL_TLS_KEY",
        "SHENHOU_PORTAL_SIGNING_KEY"}
    assert "SHENHOU_PORTAL_PUBLIC_KEYS" in services["worker"]["environment"]
    assert "SHENHOU_PORTAL_SIGNING_KEY" not in services["worker"]["environment"]
    # Sign-in with the configured provider: never the stand-in (no issuer would mean the stand-in).
    assert env["SHENHOU_PORTAL_OIDC_ISSUER"].startswith("${PORTAL_OIDC_ISSUER:?")
    # The staff tools are on a network the portal is not on; X-Forwarded-For is believed from the proxy only.
    assert services["codec-server"]["networks"] == ["staff"]
    assert "staff" in services["temporal-ui"]["networks"] and "staff" not in portal["networks"]
    assert env["SHENHOU_PORTAL_FORWARDED_ALLOW_IPS"] == proxy["networks"]["edge"]["ipv4_address"]
    assert "default" not in proxy["networks"]
    assert "./deploy/nginx/staff-networks.conf:/etc/nginx/staff-networks.conf:ro" in proxy["volumes"]


def test_material_links_reach_the_codec_server_which_reads_the_portals_scans_read_only() -> None:
    compose = _compose()
    services = compose["services"]
    codec, worker = services["codec-server"], services["worker"]
    # The links go to the staff host's /codec/, never to a loopback address on the officer's machine.
    link = worker["environment"]["SHENHOU_SCAN_URL"]
    assert link == "https://${PUBLIC_HOST:?set PUBLIC_HOST in .env}/codec/materials/"
    mounts = {volume.split(":")[1]: volume.split(":") for volume in codec["volumes"]}
    materials = codec["environment"]["SHENHOU_MATERIALS_DIR"]
    [mount] = [target for target in mounts if materials.startswith(target + "/")]
    assert mounts[mount][0] == "portal-data" and mounts[mount][2] == "ro"
    assert materials == f"{mount}/materials"  # <portal data>/materials, as runtime.materials.materials_dir
