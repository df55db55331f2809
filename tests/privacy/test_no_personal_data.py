"""Identity numbers, names, phone and bank card numbers never appear in clear in Temporal (docs/architecture.md,
"Privacy").

One full case runs (with refused actions whose payloads carry personal data), then everything Temporal
stores or shows in clear is scanned: workflow ids, search attributes, visibility records, the raw
history bytes of the case and every matter as a client *without* the codec reads them, the history JSON,
the status queries (which may show masked values only), the UI's current details, every log line the
worker wrote (JSON logging as in production) and the messages of refused actions and refused updates.

A positive control decrypts the same history with the codec and finds the personal data there, so an
empty scan means "encrypted", not "the scanner looks in the wrong place".
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, cast

import pytest
import structlog
from google.protobuf.message import Message
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.worker import Worker

from client.errors import OperationRefused
from client.operations import decide
from domain.enums import CaseState, DecisionKind, MatterCode, MatterState, PensionStatus
from domain.identity import mask_name, mask_number
from domain.models import Application, ApproveInput, DecisionCommand
from runtime.codec import ENCODING, EncryptionCodec
from runtime.keys import Keys
from runtime.logging import configure_logging
from tests.workflows.helpers import (
    HUKOU,
    application_for,
    approve,
    current_details,
    matter_handle,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
)
from workflows import search_attributes as sa

MEDICAL = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT


def personal_data(app: Application) -> dict[str, str]:
    return {
        "deceased id": app.deceased.id_number,
        "deceased name": app.deceased.name,
        "deceased card": app.deceased.bank_card,
        "applicant id": app.applicant.id_number,
        "applicant name": app.applicant.name,
        "applicant phone": app.applicant.phone,
        "applicant card": app.applicant.bank_account.card_number,
        "account name": app.applicant.bank_account.account_name,
    }


def leaks(text: str | bytes, secrets: dict[str, str]) -> list[str]:
    if isinstance(text, bytes):
        return [what for what, value in secrets.items() if value.encode() in text]
    return [what for what, value in secrets.items() if value in text]


def is_repeated(field: Any) -> bool:
    flag = getattr(field, "is_repeated", None)  # protobuf 6; older ones only have `label`
    return bool(flag) if flag is not None else field.label == field.LABEL_REPEATED


def payloads_in(message: Message) -> Iterator[Payload]:
    """Every Payload anywhere inside a proto message."""
    if isinstance(message, Payload):
        yield message
        return
    for field, value in message.ListFields():
        if field.message_type is None:
            continue
        if field.message_type.GetOptions().map_entry:
            for item in value.values():
                if isinstance(item, Message):
                    yield from payloads_in(item)
        elif is_repeated(field):
            for item in value:
                yield from payloads_in(item)
        else:
            yield from payloads_in(value)


def personal_amounts(app: Application) -> list[str]:
    return [app.applicant.bank_account.card_number, app.applicant.phone, "-" + app.applicant.phone[:6]]


def approval_with(app: Application, amount: str) -> DecisionCommand:
    """Built without validation, as a hand-made client could send it."""
    return DecisionCommand.model_construct(
        kind=DecisionKind.APPROVE, reject=None, request_materials=None, extend_deadline=None,
        approve=ApproveInput.model_construct(officer=app.applicant.name, note="", amount=cast(Any, amount),
                                              certificate_no=None))


def error_chain(err: BaseException) -> list[str]:
    """Everything a caller that logs the whole exception would write."""
    texts = []
    cause: BaseException | None = err
    while cause is not None:
        texts.append(f"{type(cause).__name__}: {cause}")
        texts.extend(str(getattr(cause, attr, "")) for attr in ("message", "details"))
        cause = getattr(cause, "cause", None) or cause.__cause__
    return texts


@pytest.fixture
def json_logs(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """Production logging (JSON to stderr, INFO unless parametrised), into a stream the test can read."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging(getattr(request, "param", "INFO"), json=True)
    stream = io.StringIO()
    handler = root.handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    try:
        yield stream
    finally:
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
        structlog.reset_defaults()


@pytest.mark.filterwarnings("ignore::UserWarning")  # serialising model_construct amounts
async def test_no_personal_data_in_clear_anywhere_temporal_keeps_or_shows(
    json_logs: io.StringIO, env_target: str, client: Client, codec: EncryptionCodec, keys: Keys,
    task_queue: str, worker: Worker,
) -> None:
    app = application_for(PensionStatus.ENTERPRISE_RETIREE)
    secrets = personal_data(app)
    handle = await start(client, keys, task_queue, app)
    case_number = handle.id
    assert not leaks(case_number, secrets)
    snap = await to_parallel_phase(client, handle)
    matters = [view.code for view in snap.matters]

    # Refused actions whose payloads are full of personal data (sent through the codec, as staff do).
    medical = matter_handle(client, case_number, MEDICAL)
    refused_before = len(view_of(snap, MEDICAL).refused_actions)
    await medical.signal("approve", {"officer": app.applicant.name, "amount": app.applicant.bank_account.card_number,
                                     "note": app.deceased.id_number * 30})
    await medical.signal("reject", {"officer": app.applicant.phone, "reason": ""})
    await medical.signal("request_materials", {"officer": "李科员", "items": [app.deceased.id_number] * 25})
    await medical.signal("extend_deadline", {"supervisor": app.deceased.name, "working_days": app.applicant.phone,
                                             "reason": app.applicant.id_number})
    await handle.signal("withdraw", {"clerk": app.applicant.name, "reason": app.deceased.id_number * 40})
    await handle.signal("cremation_certified", {"certificate_no": app.deceased.id_number,
                                                "funeral_home": app.deceased.name, "cremated_on": app.applicant.phone})
    await handle.signal("bank_account_corrected", {
        "clerk": "张窗口", "bank_name": "中国建设银行固阳支行", "account_name": app.applicant.name,
        "card_number": app.applicant.bank_account.card_number})
    snap = await wait_for(handle, lambda s: len(s.refused_actions) >= 3
                          and len(view_of(s, MEDICAL).refused_actions) >= refused_before + 4)

    # The CLI's update path, with personal data where an amount belongs: the message it shows is clean.
    for amount in personal_amounts(app):
        with pytest.raises(OperationRefused) as refused:
            await decide(client, case_number, MEDICAL, approval_with(app, amount))
        assert refused.value.message.startswith("决定未受理")
        assert not leaks(f"{refused.value.message}\n{refused.value!r}", secrets), refused.value.message

    # Status queries show masked values only; so do refusal reasons and the UI's current details.
    shown = [snap.model_dump_json()]
    for code in matters:
        matter = matter_handle(client, case_number, code)
        shown.append((await status(matter)).model_dump_json())
        shown.append(await current_details(matter))
    shown.append(await current_details(handle))
    reasons = [r.reason for r in snap.refused_actions] + [
        r.reason for v in snap.matters for r in v.refused_actions]
    assert len(reasons) >= 7
    shown.extend(reasons)
    assert not leaks("\n".join(shown), secrets)
    assert snap.deceased == mask_name(app.deceased.name) != app.deceased.name
    assert snap.applicant == mask_name(app.applicant.name)
    assert snap.payee_card == mask_number(app.applicant.bank_account.card_number)

    # Finish the case.
    for view in snap.matters:
        if view.code != HUKOU and view.state == MatterState.UNDER_REVIEW:
            await approve(client, case_number, view)
    result = await handle.result()
    assert result.state == CaseState.COMPLETED
    assert sum((m.amount or Decimal(0)) for m in result.matters) > 0
    final = await status(handle)
    assert not leaks(final.model_dump_json(), secrets)

    # Workflow ids, search attributes and visibility records.
    executions = await visible(client, case_number, len(matters) + 1)
    ids = {execution.id for execution in executions}
    assert ids == {case_number, *(f"{case_number}.{code.value}" for code in matters)}
    for execution in executions:
        assert not leaks(execution.id, secrets)
        assert not leaks(execution.raw_info.SerializeToString(), secrets), execution.id
        assert not leaks(repr(execution.search_attributes), secrets), execution.id
        assert execution.typed_search_attributes.get(sa.CASE_NUMBER) == case_number

    # Raw history as a client without the codec reads it: bytes, JSON, and every payload.
    plain = await Client.connect(env_target, namespace=client.namespace)
    decrypted: list[bytes] = []
    for workflow_id in sorted(ids):
        history = await plain.get_workflow_handle(workflow_id).fetch_history()
        for event in history.events:
            assert not leaks(event.SerializeToString(), secrets), (workflow_id, event.event_type)
        assert not leaks(json.dumps(history.to_json_dict(), ensure_ascii=False), secrets), workflow_id
        for payload in (p for event in history.events for p in payloads_in(event)):
            if payload.metadata.get("encoding") == ENCODING:
                decrypted.extend(p.data for p in await codec.decode([payload]))
    # Positive control: the same history, decrypted, does hold the application.
    assert set(leaks(b"\n".join(decrypted), secrets)) == set(secrets)

    # Every log line the worker and the SDK wrote (JSON, as in production).
    lines = [line for line in json_logs.getvalue().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]
    events = " ".join(str(record.get("event", "")) for record in records)
    assert "matter_pushed" in events and "refused action" in events, events[:2000]
    assert not leaks(json_logs.getvalue(), secrets), [line for line in lines if leaks(line, secrets)][:5]
    assert not leaks(json.dumps(records, ensure_ascii=True), secrets)


async def visible(client: Client, case_number: str, count: int, timeout: float = 15) -> list[Any]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = [e async for e in client.list_workflows(f"{sa.CASE_NUMBER.name} = '{case_number}'")]
        if len(found) >= count or loop.time() > deadline:
            return found
        await asyncio.sleep(0.2)


@pytest.fixture
def env_target(client: Client) -> str:
    return client.service_client.config.target_host


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("json_logs", ["DEBUG"], indirect=True)
async def test_a_refused_update_carries_no_personal_data_in_its_error_chain_or_debug_logs(
    json_logs: io.StringIO, client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    app = application_for(PensionStatus.ENTERPRISE_RETIREE)
    secrets = personal_data(app)
    handle = await start(client, keys, task_queue, app)
    await to_parallel_phase(client, handle)
    chains = []
    for amount in personal_amounts(app):
        with pytest.raises(OperationRefused) as refused:
            await decide(client, handle.id, MEDICAL, approval_with(app, amount))
        chains.extend(error_chain(refused.value))
    logged = [line for line in json_logs.getvalue().splitlines() if leaks(line, secrets)]
    assert not leaks("\n".join(chains), secrets), [text for text in chains if leaks(text, secrets)][:2]
    assert not logged, logged[:2]
