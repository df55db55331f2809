"""好差评 to the province: the dispatcher forwards each family rating (``register.tables.RatingRow``) once to
the province's 好差评 system, through an adapter.

The ratings table is its own outbox: a rating is claimed with a lease (a conditional update, as the
notification outbox's messages are), handed to the adapter under its idempotency key
``rating/<case number>/<subject>``, and marked ``sent_at`` only when the adapter took it. A dispatcher that
dies between the two leaves the rating claimed; when the lease ends it is sent again under the same key, and
the adapter takes it once. A failure is retried with the dispatcher's backoff; a rating refused for good, or
one that failed too often, is marked ``failed_at`` with the reason and left for staff.

Adapters (chosen by ``SHENHOU_HAOCHAPING_URL``):

- ``FileAdapter`` (the default): one JSON line per rating appended to ``ratings.jsonl`` in
  ``SHENHOU_HAOCHAPING_DIR`` (default data_dir/haochaping), a key already in the file not written again;
  for a province whose collector picks files up, or until the interface is opened.
- ``HttpAdapter``: the JSON below POSTed to the URL with ``Authorization: Bearer <SHENHOU_HAOCHAPING_TOKEN>``
  and ``Idempotency-Key``; 2xx taken (or already taken under the key), 400/404/410/422 refused for good,
  anything else (or no answer) tried again: at once a few times, then by the dispatcher's backoff.

    {"idempotency_key": "rating/SH-…/<subject>", "county": "…", "case_number": "SH-…",
     "subject": "case" or the matter's code, "subject_name": "…", "department": "nhsa" or "",
     "department_name": "…", "score": 1–5, "grade": "非常满意"…"非常不满意", "comment": "…",
     "channel": "portal", "rated_at": "<ISO 8601, UTC>"}

Nothing personal beyond the case number leaves; the comment is never logged.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
import structlog
from sqlalchemy import inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from domain.catalogue import active_catalogue
from notify import leases
from notify.channels import JsonLinesOnce, Refused, Unavailable, safe_reason
from register.tables import CASE_SUBJECT, SCORES, RatingRow, stored_utc
from runtime.settings import Settings

log = structlog.get_logger()

FILE_NAME = "ratings.jsonl"
GRADES = dict(SCORES)
_REFUSED_STATUSES = frozenset({400, 404, 410, 422})


class Adapter(Protocol):
    async def send(self, key: str, body: dict[str, Any]) -> None:
        """Deliver once per key; raise ``Refused`` or ``Unavailable`` when not delivered."""

    async def aclose(self) -> None: ...


class FileAdapter:
    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self._file = JsonLinesOnce(self.path)

    async def send(self, key: str, body: dict[str, Any]) -> None:
        entry = {name: value for name, value in body.items() if name != "idempotency_key"}
        try:
            await asyncio.to_thread(self._file.append, key, entry)
        except OSError as err:
            raise Unavailable(f"cannot write {self.path.name}: {err.strerror}") from err

    async def aclose(self) -> None:
        return None


class HttpAdapter:
    def __init__(self, url: str, token: str = "", *, tries: int = 3, pause_seconds: float = 0.5,
                 timeout_seconds: float = 10.0, client: httpx.AsyncClient | None = None) -> None:
        self._url = url
        self._token = token
        self._tries = max(1, tries)
        self._pause = pause_seconds
        self._client = client or httpx.AsyncClient(timeout=httpx.Timeout(timeout_seconds))

    async def send(self, key: str, body: dict[str, Any]) -> None:
        headers = {"Idempotency-Key": key}
        if self._token:
            headers["Authorization"] = f"Bearer {self._token}"
        reason = ""
        for attempt in range(self._tries):
            if attempt:
                await asyncio.sleep(self._pause * (1 << (attempt - 1)))
            try:
                response = await self._client.post(self._url, json=body, headers=headers)
            except httpx.HTTPError as err:
                reason = safe_reason(f"province unreachable: {type(err).__name__}")
                continue
            if response.is_success:
                return
            reason = safe_reason(f"HTTP {response.status_code}: {response.reason_phrase or ''}")
            if response.status_code in _REFUSED_STATUSES:
                raise Refused(reason)
        raise Unavailable(reason)

    async def aclose(self) -> None:
        await self._client.aclose()


def adapter_for(settings: Settings) -> Adapter:
    if settings.haochaping_url:
        return HttpAdapter(settings.haochaping_url, settings.haochaping_token)
    return FileAdapter(settings.haochaping_path)


# The ratings are forwarded on the dispatcher's settings.
ForwardConfig = leases.QueueConfig


def idempotency_key(row: RatingRow) -> str:
    return f"rating/{row.case_number}/{row.subject}"


def payload(row: RatingRow, county: str) -> dict[str, Any]:
    catalogue = active_catalogue()
    names = {definition.code.value: definition.name for definition in catalogue.definitions()}
    departments = {code.value: name for code, name in catalogue.department_names().items()}
    subject_name = "身后“一件事一次办”" if row.subject == CASE_SUBJECT else names.get(row.subject, row.subject)
    return {
        "idempotency_key": idempotency_key(row), "county": county, "case_number": row.case_number,
        "subject": row.subject, "subject_name": subject_name, "department": row.department,
        "department_name": departments.get(row.department, row.department), "score": row.score,
        "grade": GRADES.get(row.score, str(row.score)), "comment": row.comment, "channel": row.channel,
        "rated_at": stored_utc(row.rated_at).astimezone(UTC).isoformat(),
    }


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RatingForwarder:
    """Sends what is due of the ratings outbox (the dispatcher calls ``run_once`` in each of its rounds)."""

    def __init__(self, engine: Engine, adapter: Adapter, county: str, *, config: ForwardConfig | None = None,
                 clock: Callable[[], datetime] = _utc_now, owner: str | None = None) -> None:
        self._engine = engine
        self._adapter = adapter
        self._county = county
        self._config = config or ForwardConfig()
        self._clock = clock
        self.owner = owner or uuid.uuid4().hex[:16]
        self._ready = False

    async def run_once(self) -> int:
        """Forward what is due now (one batch); how many ratings were tried."""
        if not self._table_ready():
            return 0
        tried = 0
        for row_id in self._due():
            row = self._claim(row_id)
            if row is None:
                continue
            tried += 1
            await self._forward(row)
        return tried

    async def run_until_idle(self) -> None:
        while await self.run_once():
            pass

    def _table_ready(self) -> bool:
        # A register from before ratings existed gets the table at the worker's next start.
        if not self._ready:
            try:
                self._ready = inspect(self._engine).has_table(RatingRow.__tablename__)
            except SQLAlchemyError:
                return False
        return self._ready

    def _due(self) -> list[int]:
        return leases.due(self._engine, RatingRow, self._clock(), self._config.batch_size)

    def _claim(self, row_id: int) -> RatingRow | None:
        return leases.claim(self._engine, RatingRow, row_id, self.owner, self._clock(), self._config.lease)

    async def _forward(self, row: RatingRow) -> None:
        assert row.id is not None
        where = {"case_number": row.case_number, "subject": row.subject, "attempt": row.attempts + 1}
        try:
            await self._adapter.send(idempotency_key(row), payload(row, self._county))
        except Refused as refused:
            self._update(row.id, failed_at=self._clock(), last_error=refused.reason, lease_owner=None,
                         lease_until=None)
            log.warning("rating_refused", reason=refused.reason, **where)
            return
        except Unavailable as unavailable:
            attempts = row.attempts + 1
            if attempts >= self._config.max_attempts:
                self._update(row.id, attempts=attempts, failed_at=self._clock(), lease_owner=None,
                             lease_until=None, last_error=f"gave up after {attempts} attempts: {unavailable.reason}")
            else:
                self._update(row.id, attempts=attempts, last_error=unavailable.reason, lease_owner=None,
                             lease_until=None, next_attempt_at=self._clock() + self._config.delay_after(attempts))
            log.warning("rating_retry", reason=unavailable.reason, **where)
            return
        self._update(row.id, sent_at=self._clock(), lease_owner=None, lease_until=None, last_error=None)
        log.info("rating_forwarded", **where)

    def _update(self, row_id: int, **values: object) -> None:
        leases.settle(self._engine, RatingRow, row_id, **values)
