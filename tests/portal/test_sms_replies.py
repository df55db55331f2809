"""退订: the gateway posts a family's reply to the portal; "T" (or 退订) stops the invitation and the reminders of
lapsing entitlements to that number, and nothing else (register/opt_outs.py). Only the gateway, with the reply
token, may post; the number is kept only as its keyed hash."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from temporalio.client import Client

from activities.calendar import WorkingDayCalendar
from domain.enums import NotificationKind
from domain.policy import Policy
from notify.channels import FileChannel, delivered_lines
from notify.dispatcher import OPTED_OUT, Dispatcher
from portal.app import PortalServices, create_app
from register.contacts import record_invitation
from register.sealing import Sealer
from register.tables import OptOutRow, OutboxRow
from runtime.keys import Keys
from tests.factories import APPLICANT_PHONE
from tests.notify.conftest import seed_case
from tests.portal.conftest import portal_settings

TOKEN = "gateway-token-9"


async def _post(services: PortalServices, body: object, token: str = TOKEN) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(services)),
                                 base_url="http://portal") as http:
        return await http.post("/sms/replies", json=body, headers={"Authorization": f"Bearer {token}"})


async def test_a_reply_of_t_stops_the_unsolicited_messages_only(
    client: Client, keys: Keys, engine: Engine, calendar: WorkingDayCalendar, tmp_path: Path
) -> None:
    services = PortalServices(settings=portal_settings(tmp_path, sms_reply_token=TOKEN), policy=Policy(),
                              keys=keys, client=client, engine=engine, calendar=calendar, today=lambda: date.today())
    # Without the gateway's token, nothing is taken.
    assert (await _post(services, {"from": APPLICANT_PHONE, "text": "T"}, token="guess")).status_code == 401
    assert (await _post(services, {"from": APPLICANT_PHONE})).status_code == 422
    # Any other reply is no opt-out.
    assert (await _post(services, {"from": APPLICANT_PHONE, "text": "谢谢"})).json() == {"opted_out": False}
    answer = await _post(services, {"from": f"+86 {APPLICANT_PHONE}", "text": " t "})
    assert answer.status_code == 200 and answer.json() == {"opted_out": True}
    with Session(engine) as session:
        [row] = session.exec(select(OptOutRow)).all()
    assert APPLICANT_PHONE not in row.phone_hash

    # The case's own messages still go; the invitation and a lapse reminder to that number do not.
    sealer, at = Sealer.from_keys(keys), datetime(2026, 11, 30, 9, tzinfo=UTC)
    seed_case(engine, (("case_received", "family", None), (NotificationKind.CLAIM_LAPSING.value, "family", None)),
              sealer=sealer)
    # Another deceased's case the funeral home opened with the same number.
    assert record_invitation(engine, "SH-INVITEDAA2345", APPLICANT_PHONE, "固阳县殡仪馆", "邀请", sealer, at)
    sms = tmp_path / "sms.jsonl"
    await Dispatcher(engine, FileChannel(sms), Policy(), keys.query_code_key, sealer=sealer,
                     clock=lambda: at).run_until_idle()
    assert [line["idempotency_key"].split("/")[2] for line in delivered_lines(sms)] == ["case_received"]
    with Session(engine) as session:
        skipped = session.exec(select(OutboxRow).where(OutboxRow.failed_at.is_not(None))).all()  # type: ignore[union-attr]
    assert sorted((row.kind, row.failed_reason) for row in skipped) == [
        (NotificationKind.CLAIM_LAPSING.value, OPTED_OUT), (NotificationKind.INVITATION.value, OPTED_OUT)]
