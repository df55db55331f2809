"""Reads scoped like writes: what the codec server's ``/decode`` shows of a case to each reader.

The case's real input, as the Web UI fetches it from the history (encrypted), decoded for: the embedded
default's anonymous reader, an officer of a department the case does not concern, a supervisor, the officers of
the case's own departments, and an operator.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio
from google.protobuf import json_format
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest
from temporalio.client import Client
from temporalio.worker import Worker

from domain.enums import MatterCode, PensionStatus
from domain.models import Application
from runtime.codec import codec_from_keys
from runtime.codec_auth import JwksFile, TokenVerifier
from runtime.codec_server import OfficerSigning, serve
from runtime.keys import Keys
from runtime.read_scope import NOTE_FIELD, Reader, scope
from tests.runtime.test_codec_auth import AUDIENCE, ISSUER, JWKS, ORIGINS, bearer, token
from tests.runtime.test_codec_officers import MAPPING, OPERATORS
from tests.signing import OFFICER
from tests.workflows.helpers import application_with, start


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def case_input(client: Client, keys: Keys, task_queue: str, app: Application) -> dict[str, Any]:
    """The input of the case, as the history holds it (encrypted)."""
    handle = await start(client, keys, task_queue, app)
    history = await client.workflow_service.get_workflow_execution_history(GetWorkflowExecutionHistoryRequest(
        namespace=client.namespace, execution=WorkflowExecution(workflow_id=handle.id)))
    started = history.history.events[0].workflow_execution_started_event_attributes
    body: dict[str, Any] = json_format.MessageToDict(started.input)
    assert app.deceased.id_number not in json.dumps(body)
    return body


async def decode(http: aiohttp.ClientSession, url: str, body: dict[str, Any], who: str | None = None) -> str:
    headers = bearer(who) if who else {}
    async with http.post(f"{url}/decode", json=body, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        [payload] = (await resp.json())["payloads"]
    return base64.b64decode(payload["data"]).decode()


def officer(*groups: str) -> str:
    return token(name="某经办人", groups=list(groups))


async def test_the_cases_input_shows_no_full_id_or_card_to_a_reader_who_is_not_its_officer(
    client: Client, keys: Keys, task_queue: str, worker: Worker, tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    # A case of 户口注销 and the 人社 pension.
    app = application_with(PensionStatus.ENTERPRISE_RETIREE, MatterCode.ENTERPRISE_RETIREE_DEATH_BENEFIT)
    deceased, applicant = app.deceased, app.applicant
    deceased_id, applicant_id, deceased_card = deceased.id_number, applicant.id_number, deceased.bank_card
    applicant_card, applicant_phone = applicant.bank_account.card_number, applicant.phone
    deceased_name, applicant_name = deceased.name, applicant.name
    numbers = (deceased_id, applicant_id, deceased_card, applicant_card, applicant_phone)
    names = (deceased_name, applicant_name)
    body = await case_input(client, keys, task_queue, app)
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(JWKS))
    codec = codec_from_keys(keys)
    verifier = TokenVerifier(JwksFile(jwks), issuer=ISSUER, audience=AUDIENCE)
    signed_in = await serve(codec, "127.0.0.1", 0, ORIGINS, verifier, OfficerSigning(OFFICER, MAPPING), OPERATORS)
    embedded = await serve(codec, "127.0.0.1", 0, ORIGINS)
    try:
        url = "http://{}:{}".format(*signed_in.addresses[0][:2])
        default = "http://{}:{}".format(*embedded.addresses[0][:2])

        # Nobody signed in (the embedded default): everything masked, and told how to see more.
        anonymous = await decode(http, default, body)
        assert not any(secret in anonymous for secret in numbers + names), anonymous
        shown_id = json.loads(anonymous)["application"]["deceased"]["id_number"]
        assert shown_id == deceased_id[:4] + "*" * 10 + deceased_id[-4:]
        assert "SHENHOU_CODEC_SHOW_PERSONAL_DATA" in json.loads(anonymous)[NOTE_FIELD]

        # An officer of 医保 (the case has no 医保 matter), and a supervisor: no number in full.
        for reader in (officer("ybj-staff"), officer("county-supervisor")):
            shown = await decode(http, url, body, reader)
            assert not any(secret in shown for secret in numbers), shown
            assert NOTE_FIELD in json.loads(shown)
        assert deceased_name in shown and applicant_name in shown  # the supervisor's: names only

        # The case's own officers: 公安 what 户口注销 needs (the deceased), 人社 what paying needs.
        police = await decode(http, url, body, officer("police"))
        assert deceased_id in police and deceased_name in police
        assert not any(secret in police for secret in (applicant_id, applicant_card, deceased_card, applicant_phone))
        hrss = await decode(http, url, body, officer("hrss"))
        assert all(secret in hrss for secret in (deceased_id, applicant_id, applicant_card, deceased_card))
        assert applicant_phone not in hrss

        # An operator sees it all, unannotated.
        operator = json.loads(await decode(http, url, body, officer("shenhou-operator")))
        assert NOTE_FIELD not in operator
        assert all(secret in json.dumps(operator, ensure_ascii=False) for secret in numbers + names)
    finally:
        await signed_in.cleanup()
        await embedded.cleanup()


def test_numbers_in_free_text_are_masked_and_references_kept() -> None:
    phone, card = "13904720200", "6217000000000000012"
    document = {"note": f"家属电话{phone}，卡号{card}", "sha256": "1" * 64,
                "payment_reference": "PAY-20261206-000123456789"}
    shown, masked = scope(document, Reader(signed_in=False))
    assert masked and phone not in shown["note"] and card not in shown["note"]
    assert shown["sha256"] == "1" * 64 and shown["payment_reference"] == document["payment_reference"]
    assert scope(document, Reader(signed_in=False, trusted=True)) == (document, False)
