"""Who decided, and may they: a decision counts only with the codec server's signed statement of a verified
officer of the matter's department (a supervisor for an extension), where the worker requires it; on the embedded
default a decision without one is taken and shown as unverified.

Statements are signed here with the test run's officer key (tests/signing.py), exactly as the codec server signs
them (runtime/officers.py); the codec server's own part is in tests/runtime/test_codec_officers.py.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.engine import Engine
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.worker import Worker

from client.operations import case_status
from domain.enums import DecisionKind, Department, Issuer, MatterCode, MatterState, PensionStatus
from domain.ids import matter_workflow_id
from domain.models import StatusSnapshot
from domain.officers import UNVERIFIED
from runtime.codec import EncryptionCodec
from runtime.codec_auth import JwksFile, TokenVerifier
from runtime.codec_server import OfficerSigning, serve
from runtime.officers import ClaimMapping, Officer, decision_kind, statement_for
from runtime.signing import StatementSigner
from tests.runtime.test_codec_auth import AUDIENCE, ISSUER, JWKS, ORIGINS, token
from tests.signing import OFFICER
from tests.workflows import timeskip as ts
from tests.workflows.helpers import (
    HUKOU,
    application_with,
    certify,
    matter_handle,
    matter_state,
    rendered_status,
    signal_raw,
    start,
    wait_for,
)

HPF = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
NHSA = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
POLICE = Officer(subject="u-police", name="王警官", departments=(Department.POLICE,), supervisor=False)
NHSA_OFFICER = Officer(subject="u-nhsa", name="医保赵", departments=(Department.NHSA,), supervisor=False)
HPF_OFFICER = Officer(subject="u-hpf", name="公积金钱", departments=(Department.HPF,), supervisor=False)
SUPERVISOR = Officer(subject="u-sup", name="督办孙", departments=(Department.SUPERVISION,), supervisor=True)


def signed(officer: Officer, body: dict[str, Any], *, at: datetime | None = None) -> dict[str, Any]:
    """``body`` with the statement the codec server adds for ``officer`` (as /encode does)."""
    found = decision_kind(body)
    assert found is not None, body
    kind, decision = found
    statement = statement_for(OFFICER, officer, kind, decision, at)
    return {**body, "officer_statement": statement.model_dump(mode="json", exclude_none=True)}


async def _parallel(client: Client, keys: Any, task_queue: str) -> str:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, NHSA, HPF))
    await certify(handle)
    await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)
    await matter_handle(client, handle.id, HUKOU).signal("approve", signed(POLICE, {
        "officer": "王警官", "certificate_no": "ZX-0001", "case_number": handle.id, "matter": HUKOU.value}))
    await wait_for(handle, lambda s: matter_state(s, HPF) == MatterState.UNDER_REVIEW)
    return handle.id


async def _refusals(matter: Any, count: int) -> StatusSnapshot:
    snap: StatusSnapshot = await wait_for(matter, lambda s: s.matters[0].refused_total >= count)
    return snap


async def test_only_a_verified_officer_of_the_department_decides(
    client: Client, keys: Any, task_queue: str, engine: Engine, strict_worker: Worker
) -> None:
    case = await _parallel(client, keys, task_queue)
    hpf = matter_handle(client, case, HPF)
    body = {"officer": "公积金钱", "amount": "3000.00", "case_number": case, "matter": HPF.value}

    # 1. A 医保 officer's approval of the 公积金 matter.
    await hpf.signal("approve", signed(NHSA_OFFICER, {**body, "officer": "公积金钱"}))
    # 2. No statement at all (a typed name only).
    await hpf.signal("approve", body)
    # 3. Expired: signed twenty minutes ago.
    await hpf.signal("approve", signed(HPF_OFFICER, body, at=datetime.now(UTC) - timedelta(minutes=20)))
    # 4. Signed for the 医保 matter of the same case, sent to this one.
    other = signed(HPF_OFFICER, {**body, "matter": NHSA.value})
    await hpf.signal("approve", {**other, "matter": HPF.value})
    # 5. A genuine statement with the amount changed afterwards.
    await hpf.signal("approve", {**signed(HPF_OFFICER, body), "amount": "30000.00"})
    # 6. A statement of the codec server's, but signed by a key the worker does not trust.
    stranger = StatementSigner(Issuer.OFFICER, b"\x07" * 32)
    found = decision_kind(body)
    assert found is not None
    forged = statement_for(stranger, HPF_OFFICER, found[0], found[1])
    await hpf.signal("approve", {**body, "officer_statement": forged.model_dump(mode="json", exclude_none=True)})

    snap = await _refusals(hpf, 6)
    view = snap.matters[0]
    assert view.state == MatterState.UNDER_REVIEW and not view.decisions
    reasons = [(r.by, r.reason) for r in view.refused_actions]
    assert reasons[0] == ("医保赵", "办理人不属于本事项的主管部门，无权作此决定"), reasons
    assert reasons[1][0] == "公积金钱" + UNVERIFIED and "未附经核验的办理人身份" in reasons[1][1]
    assert "已过期" in reasons[2][1]
    assert "不是为本事项签发的" in reasons[3][1]
    assert "与决定内容不符" in reasons[4][1]
    assert "身份核验签名" in reasons[5][1] or "有效密钥" in reasons[5][1], reasons[5]

    # The 公积金 officer's own approval counts, under the verified name (not the one typed).
    await hpf.signal("approve", signed(HPF_OFFICER, {**body, "officer": "随便写的名字"}))
    snap = await wait_for(hpf, lambda s: s.matters[0].state != MatterState.UNDER_REVIEW)
    assert snap.matters[0].decisions[0].by == "公积金钱"
    status = await case_status(client, case)
    text = rendered_status(status)
    assert "公积金钱" in text and "随便写的名字" not in text
    assert "医保赵" in text  # who tried, in the refusals
    # The register: the audit trail's actor is the verified name; the refusal names who tried.
    await ts.registered(lambda: any("审核通过（公积金钱）" in e for e in ts.audit_events(engine, case, HPF)))
    events = ts.audit_events(engine, case, HPF)
    assert any(e.startswith("拒绝医保赵的操作approve") for e in events), events
    assert "公积金钱" in ts.audit_actors(engine, case, HPF)


async def test_a_statement_counts_once_and_extensions_need_a_supervisor(
    client: Client, keys: Any, task_queue: str, strict_worker: Worker
) -> None:
    case = await _parallel(client, keys, task_queue)
    nhsa = matter_handle(client, case, NHSA)
    body = {"supervisor": "督办孙", "working_days": 5, "reason": "材料复杂", "case_number": case,
            "matter": NHSA.value}
    # An officer of the department is no supervisor.
    await nhsa.signal("extend_deadline", signed(NHSA_OFFICER, body))
    await _refusals(nhsa, 1)
    # The supervisor's extension counts (the county policy's list of typed names plays no part); sent again, the
    # same statement is refused.
    extension = signed(SUPERVISOR, body)
    await nhsa.signal("extend_deadline", extension)
    await wait_for(nhsa, lambda s: len(s.matters[0].decisions) == 1)
    await nhsa.signal("extend_deadline", extension)
    snap = await _refusals(nhsa, 2)
    view = snap.matters[0]
    assert [d.kind for d in view.decisions] == [DecisionKind.EXTEND_DEADLINE]
    assert view.decisions[0].by == "督办孙"
    assert [r.reason for r in view.refused_actions] == [
        "延长时限须由督办人办理，办理人没有督办人角色", "身份核验凭据已使用过，不能重复使用"]


async def test_on_the_embedded_default_a_decision_without_a_statement_is_marked_unverified(
    client: Client, keys: Any, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_with(PensionStatus.ENTERPRISE_RETIREE, NHSA))
    await certify(handle)
    await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.UNDER_REVIEW)
    # A decision naming another matter is refused even here (a slip in the Web UI's dialog).
    hukou = matter_handle(client, handle.id, HUKOU)
    await hukou.signal("approve", {"officer": "王警官", "certificate_no": "ZX-1", "matter": NHSA.value})
    snap = await _refusals(hukou, 1)
    assert snap.matters[0].refused_actions[0].reason == "决定所注明的受理编号或事项与本事项不符"
    # As the Web UI sends it on the embedded default: a typed name, no statement (no sign-in).
    await matter_handle(client, handle.id, HUKOU).signal("approve", {"officer": "王警官", "certificate_no": "ZX-1"})
    await wait_for(handle, lambda s: matter_state(s, HUKOU) == MatterState.APPROVED)
    text = rendered_status(await case_status(client, handle.id))
    assert "王警官（未核验身份）" in text
    await ts.registered(lambda: "王警官（未核验身份）" in ts.audit_actors(engine, handle.id, HUKOU))


async def test_the_web_uis_signal_through_the_codec_server_carries_the_officer(
    client: Client, keys: Any, task_queue: str, tmp_path: Path, strict_worker: Worker
) -> None:
    """What the Web UI does when a signed-in officer signals: ``/encode`` with the officer's access token, then
    the signal with the encoded payload, which the worker decrypts and checks."""
    case = await _parallel(client, keys, task_queue)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(JWKS))
    verifier = TokenVerifier(JwksFile(jwks), issuer=ISSUER, audience=AUDIENCE)
    mapping = ClaimMapping(departments={"ybj-staff": Department.NHSA, "gjj-staff": Department.HPF})
    runner = await serve(EncryptionCodec(keys.codec_keys, keys.active_key_id), "127.0.0.1", 0, ORIGINS, verifier,
                         OfficerSigning(OFFICER, mapping))
    host, port = runner.addresses[0][:2]

    async def ui_signal(matter: MatterCode, name: str, body: dict[str, Any], groups: list[str], who: str) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        request = {"payloads": [{"metadata": {"encoding": base64.b64encode(b"json/plain").decode()},
                                 "data": base64.b64encode(data).decode()}]}
        async with aiohttp.ClientSession() as http, http.post(
                f"http://{host}:{port}/encode", json=request,
                headers={"Authorization": f"Bearer {token(name=who, groups=groups)}", "Origin": ORIGINS[0]}) as resp:
            assert resp.status == 200
            encoded = await resp.json()
        payloads = [Payload(metadata={k: base64.b64decode(v) for k, v in p["metadata"].items()},
                            data=base64.b64decode(p["data"])) for p in encoded["payloads"]]
        await signal_raw(client, matter_workflow_id(case, matter), name, payloads)

    try:
        body = {"officer": "x", "amount": "3000.00", "case_number": case, "matter": HPF.value}
        await ui_signal(HPF, "approve", body, ["ybj-staff"], "医保赵")
        hpf = matter_handle(client, case, HPF)
        snap = await _refusals(hpf, 1)
        assert (snap.matters[0].refused_actions[0].by, snap.matters[0].state) == ("医保赵", MatterState.UNDER_REVIEW)
        await ui_signal(HPF, "approve", body, ["gjj-staff"], "公积金钱")
        snap = await wait_for(hpf, lambda s: s.matters[0].state != MatterState.UNDER_REVIEW)
        assert snap.matters[0].decisions[0].by == "公积金钱"
    finally:
        await runner.cleanup()
