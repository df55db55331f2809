"""The portal's pages: sign in, apply online, the receipt with the query code, and the progress page.

Security, in short (docs/deploy.md, "The families' portal"):

* Online application only after sign-in with the province's identity provider (``portal/signin.py``) and a
  separate consent to the processing of sensitive personal information (``portal/consent.py``). The
  applicant is the signed-in person: the applicant's name and 身份证号码 are theirs and not editable, and a
  form naming another applicant is refused. No answer tells whether an ID number already has a case: a
  signed-in person whose application is a duplicate of someone else's is sent to the window in the same
  words as any application the portal cannot take.
* Adding matters (``/progress/add``): only a signed-in applicant to their own online case, only the online
  channel's matters, signed with the portal's own key (never the window's); the case checks who may sign what
  (domain/decisions.py, ``may_sign``). Anyone else is answered as for a case they cannot see.
* Following a case: a signed-in applicant sees their own cases; anyone with a case number and its query
  code sees that case. Wrong codes make the guesser wait longer and longer (``portal/limits.py``), keyed by
  the client address (the connecting address unless it is a configured trusted proxy) and, for anonymous
  attempts, the case number; a signed-in person is counted as themselves. A wrong code is answered the same
  way whether the case exists or not: the code is checked before the case is looked up.
* Every form carries a CSRF token bound to the server-side session (``portal/sessions.py``); the body of
  any request is cut off past ``portal_max_request_bytes`` as it arrives (``portal/body_limit.py``); uploads
  are checked, cleaned and sealed (``portal/uploads.py``, ``portal/scans.py``); POSTs to /apply (and
  /progress/add, on the same quota), /progress (and /rating) have hourly quotas per client; autoescaped
  templates and ``script-src 'none'``; no page URL carries a case number.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client
from temporalio.service import RPCError

from client import intake
from client.errors import DuplicateCase, NotFound, OperationRefused
from client.operations import case_status
from domain.application import PROBLEMS_HEADER, allowed_matters
from domain.catalogue import MatterDefinition, active_catalogue
from domain.enums import CaseState, Channel, Issuer, MaterialKind
from domain.ids import is_case_number
from domain.models import Problem, StatusSnapshot
from domain.policy import Policy
from domain.query_code import code_matches, query_code
from portal import consent, letter, progress, ratings
from portal import form as online
from portal.body_limit import BodyLimit
from portal.limits import PER_CASE, PER_CLIENT, PER_PERSON, Backoff, Limit, WindowCounter
from portal.prediction import Calendar
from portal.sessions import RENEW, ServerSessions, SessionStore
from portal.signin import Person, Provider, SignIn, SignInFailed
from portal.uploads import Staged, Staging, UploadProblem
from register.contacts import masked_phone
from register.durations import handling_samples
from register.lookups import cases_of_applicant
from register.opt_outs import is_opt_out, record_opt_out
from register.sealing import Sealer
from runtime.keys import KeyError_, Keys, signer
from runtime.settings import Settings

log = structlog.get_logger()

HERE = Path(__file__).parent
CALL_TIMEOUT_SECONDS = 30.0
WRONG_CODE = "受理编号或查询码不正确，请核对受理短信或受理回执后重新输入。"
EXPIRED = "页面已过期，请返回重新打开页面后再提交。"
BUSY = "提交过于频繁，请稍后再试。"
SIGN_IN_FAILED = "登录未完成，请重新登录。"
NOT_SIGNED_IN = "网上申请需先通过统一身份认证登录，请登录后再提交。"
NOT_THE_APPLICANT = "申请人身份证号码与登录人不一致。网上申请的申请人须为登录人本人；代他人申请请到窗口办理。"
ALREADY_YOURS = "您已为该逝者提交过申请，请在“我的申请”中查看办理进度。"
NOT_YOURS = "未找到您申请的该案件。"
ADDITION_NOT_NOW = "该案件暂不能在网上追加事项，请到窗口咨询。"
# Who added the matters, as the case's history shows it (never the person's name).
PORTAL_CLERK = "申请人网上追加"
# A case the applicant may still add matters to: running, or 办结 (the matters go to a linked case).
ADDABLE = (CaseState.RECEIVED, CaseState.HUKOU_CANCELLING, CaseState.AWAITING_CREMATION, CaseState.IN_PROGRESS,
           CaseState.COMPLETED)


def too_many(wait_seconds: float) -> str:
    return f"查询码错误次数过多，请{max(1, math.ceil(wait_seconds / 60))}分钟后再试。"


def to_the_window(policy: Policy) -> str:
    """The answer to every application the portal cannot take for reasons of the case (a duplicate of
    someone else's, too many earlier attempts): it names no case and does not say whether one exists."""
    window = policy.window
    return (f"该申请暂不能在网上受理，请携带逝者和申请人的身份证件到{window.name}办理"
            f"（{window.address}，{window.hours}，咨询电话{window.phone}）。")


@dataclass
class PortalServices:
    settings: Settings
    policy: Policy
    keys: Keys
    client: Client
    engine: Engine
    calendar: Calendar
    today: Callable[[], date]
    # Built from the settings when not given (tests give a stand-in's verifier or a clock).
    signin: SignIn | None = None
    clock: Callable[[], float] = time.monotonic
    per_case: Backoff = field(init=False)
    per_client: Backoff = field(init=False)
    per_person: Backoff = field(init=False)
    apply_quota: WindowCounter = field(init=False)
    progress_quota: WindowCounter = field(init=False)
    sessions: SessionStore = field(init=False)

    def __post_init__(self) -> None:
        settings, clock = self.settings, self.clock
        self.per_case = Backoff(PER_CASE, clock)
        self.per_client = Backoff(PER_CLIENT, clock)
        self.per_person = Backoff(PER_PERSON, clock)
        self.apply_quota = WindowCounter(Limit(settings.portal_apply_per_hour, 3600), clock)
        self.progress_quota = WindowCounter(Limit(settings.portal_progress_per_hour, 3600), clock)
        self.sessions = SessionStore(settings.portal_session_minutes * 60,
                                     settings.portal_session_absolute_minutes * 60, clock)
        if self.signin is None:
            self.signin = SignIn(Provider.from_settings(settings))


def _secret(keys: Keys, purpose: bytes) -> bytes:
    return hmac.new(keys.query_code_key, b"shenhou portal " + purpose, hashlib.sha256).digest()


def create_app(services: PortalServices) -> FastAPI:
    settings, policy = services.settings, services.policy
    signin = services.signin
    assert signin is not None
    sealer = Sealer.from_keys(services.keys)
    app = FastAPI(title="身后一件事一次办", docs_url=None, redoc_url=None, openapi_url=None)
    staging = Staging(settings.data_dir / "portal-uploads", _secret(services.keys, b"uploads"),
                      settings.portal_max_upload_bytes, sealer, settings.portal_staging_minutes * 60)
    environment = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())
    templates = Jinja2Templates(env=environment)

    app.add_middleware(SecurityHeaders)
    # Added later, so they run outside: the session exists before any page is built, and the body limit is
    # outermost (inside Starlette's error handler), counting every byte any part reads.
    app.add_middleware(ServerSessions, store=services.sessions, secure=settings.portal_cookie_secure)
    app.add_middleware(BodyLimit, max_bytes=settings.portal_max_request_bytes)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(request: Request, name: str, context: Mapping[str, Any], status_code: int = 200) -> HTMLResponse:
        person = _person(request)
        return templates.TemplateResponse(request, name, {
            "window": policy.window, "csrf_token": _csrf(request), "county": policy.county,
            "person": person, "following": isinstance(request.session.get("case"), str),
            "stand_in": signin.provider.stand_in, **context,
        }, status_code=status_code)

    def message(request: Request, text: str, status_code: int = 200, **extra: Any) -> HTMLResponse:
        return page(request, "message.html", {"message": text, **extra}, status_code=status_code)

    def client_key(request: Request) -> str:
        # The connecting address, or what a configured trusted proxy says it is (uvicorn's proxy headers).
        return request.client.host if request.client else "unknown"

    # --- home and health ---------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        return page(request, "index.html", {"online": online.online_matters(policy),
                                            "window_matters": online.window_matters(policy)})

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"ok": True})

    # --- replies to our SMS, posted by the gateway -------------------------------------------------------

    @app.post("/sms/replies")
    async def sms_reply(request: Request) -> Response:
        """The gateway's report of a reply (``{"from": MOBILE, "text": …}``), authorised by the reply token; 退订
        (T) stops the messages nobody asked for (register/opt_outs.py). Off without a reply token."""
        token = settings.sms_reply_token
        given = request.headers.get("Authorization", "")
        if not token or not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
            return JSONResponse({"error": "unauthorised"}, status_code=401)
        try:
            body = await request.json()
            phone, text = body["from"], body["text"]
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "expected from and text"}, status_code=422)
        if not (isinstance(phone, str) and isinstance(text, str)):
            return JSONResponse({"error": "expected from and text"}, status_code=422)
        if not is_opt_out(text):
            return JSONResponse({"opted_out": False})
        new = await run_in_threadpool(record_opt_out, services.engine, phone, sealer, datetime.now(UTC))
        log.info("sms_opt_out", to=masked_phone(phone), new=new)
        return JSONResponse({"opted_out": True})

    # --- sign-in -------------------------------------------------------------------------------------

    @app.get("/signin")
    async def signin_start(request: Request, then: str = "/apply") -> Response:
        return RedirectResponse(signin.start(request.session, time.time(), then), status_code=303)

    @app.get("/signin/callback")
    async def signin_callback(request: Request, state: str = "", code: str = "") -> Response:
        try:
            person, then = await signin.finish(request.session, time.time(), state, code)
        except SignInFailed as failed:
            log.warning("portal_signin_failed", reason=str(failed))
            return message(request, SIGN_IN_FAILED, status_code=400)
        _renew(request)
        request.session["person"] = {"name": person.name, "id_number": person.id_number}
        log.info("portal_signed_in")
        return RedirectResponse(then, status_code=303)

    # --- apply ---------------------------------------------------------------------------------------

    def apply_page(request: Request, typed: online.Typed, *, problems: list[Problem] | None = None,
                   staged: Mapping[MaterialKind, tuple[Staged, str]] | None = None,
                   refused_matters: list[MatterDefinition] | None = None,
                   materials: list[tuple[MaterialKind, str]] | None = None, status_code: int = 200) -> HTMLResponse:
        problems = problems or []
        return page(request, "apply.html", {
            "sections": online.sections(policy),
            "online": online.online_matters(policy),
            "window_matters": online.window_matters(policy),
            "slots": online.material_slots(policy),
            "typed": typed,
            "problems": problems,
            "problems_header": PROBLEMS_HEADER,
            "placed": online.place_problems(problems, materials or []),
            "staged": staged or {},
            "refused_matters": refused_matters or [],
            "max_mb": settings.portal_max_upload_bytes // (1024 * 1024),
            "fixed": online.APPLICANT_FIXED,
        }, status_code=status_code)

    def consent_page(request: Request, error: str = "", status_code: int = 200) -> HTMLResponse:
        return page(request, "consent.html", {
            "title": consent.NOTICE_TITLE, "paragraphs": consent.notice_paragraphs(policy.county, policy.window.name),
            "line": consent.CONSENT_LINE, "error": error,
        }, status_code=status_code)

    @app.get("/apply", response_class=HTMLResponse)
    async def apply_form(request: Request, matter: str = "") -> HTMLResponse:
        person = _person(request)
        if person is None:
            return page(request, "signin.html", {})
        if not _consented(request):
            return consent_page(request)
        typed = online.Typed()
        online.fill_applicant(typed, person)
        refused = online.window_only(policy, matter)
        if any(m.code.value == matter for m in online.online_matters(policy)):
            typed.matters = [matter]
        return apply_page(request, typed, refused_matters=[refused] if refused else [])

    @app.post("/consent", response_class=HTMLResponse)
    async def give_consent(request: Request) -> Response:
        data = await request.form(max_files=0, max_fields=5)
        if not _csrf_ok(request, data):
            return message(request, EXPIRED, status_code=403)
        if _person(request) is None:
            return page(request, "signin.html", {}, status_code=403)
        if data.get("agree") != "yes":
            return consent_page(request, "请勾选同意后继续；不同意的，可到窗口办理。", status_code=400)
        request.session["consent"] = {"version": consent.NOTICE_VERSION, "at": datetime.now(UTC).isoformat()}
        return RedirectResponse("/apply", status_code=303)

    @app.post("/apply", response_class=HTMLResponse)
    async def apply_submit(request: Request) -> Response:
        if not services.apply_quota.take(client_key(request)):
            log.warning("portal_apply_quota")
            return message(request, BUSY, status_code=429)
        person = _person(request)
        async with request.form(max_files=len(active_catalogue().materials) + 1, max_fields=200) as data:
            if not _csrf_ok(request, data):
                return message(request, EXPIRED, status_code=403)
            if person is None:
                return message(request, NOT_SIGNED_IN, status_code=403)
            if not _consented(request):
                return consent_page(request, status_code=403)
            fields = {key: value for key, value in data.multi_items() if isinstance(value, str)}
            sent_id = fields.get("applicant.id_number", "").strip().upper()
            if sent_id and sent_id != person.id_number:
                log.warning("portal_applicant_mismatch")
                return message(request, NOT_THE_APPLICANT, status_code=403)
            typed = online.read_typed(
                fields, [key for key, value in data.multi_items() if value == "true"],
                [value for value in data.getlist("matters") if isinstance(value, str)], policy,
            )
            online.fill_applicant(typed, person)
            staged, upload_problems = await _take_uploads(request, data)
        materials = [(kind, item.sha256) for kind, (item, _) in staged.items()]
        refused = [m for code in typed.matters if (m := online.window_only(policy, code)) is not None]
        checked = intake.check(online.raw_form(typed, materials, policy), staging.folder, policy, services.today())
        problems = (checked if isinstance(checked, list) else []) + upload_problems
        if problems or isinstance(checked, list):
            return apply_page(request, typed, problems=problems, staged=staged, refused_matters=refused,
                              materials=materials)
        try:
            started = await asyncio.wait_for(
                intake.submit(checked, services.client, services.keys, settings, register=services.engine),
                timeout=CALL_TIMEOUT_SECONDS)
        except DuplicateCase as duplicate:
            mine = duplicate.case_number is not None and duplicate.case_number in await run_in_threadpool(
                _cases_of, person)
            log.info("portal_application_duplicate", own=mine)
            staging.discard([item.sha256 for item, _ in staged.values()])
            if mine:
                return message(request, ALREADY_YOURS, mine=True)
            return message(request, to_the_window(policy))
        except OperationRefused as refusal:
            return apply_page(request, typed, problems=[Problem(field="form", message=refusal.message)],
                              staged=staged)
        except (RPCError, TimeoutError, OSError) as err:
            log.warning("portal_submit_unavailable", error=type(err).__name__)
            text = "系统暂时无法受理，请稍后重新提交（已填写的内容和已上传的材料会保留）。"
            return apply_page(request, typed, problems=[Problem(field="form", message=text)], staged=staged,
                              status_code=503)
        given = request.session.get("consent", {})
        try:
            await run_in_threadpool(consent.record, services.engine, sealer, started.case_number,
                                    person.id_number, datetime.fromisoformat(str(given.get("at"))))
        except (SQLAlchemyError, ValueError) as err:
            # The case is started; the consent is in the session's record only. Logged for the operator.
            log.error("portal_consent_not_recorded", case_number=started.case_number, error=type(err).__name__)
        staging.discard([item.sha256 for item, _ in staged.values()])
        at_window = [m.code.value for m in online.window_matters(policy)
                     if m.code in allowed_matters(checked.application.situations)]
        # A new application needs a new consent.
        request.session.pop("consent", None)
        request.session.pop("staged", None)
        request.session["case"] = started.case_number
        request.session["receipt"] = started.case_number
        request.session["at_window"] = at_window
        log.info("portal_case_started", case_number=started.case_number, matters=len(checked.application.matters))
        return RedirectResponse("/accepted", status_code=303)

    def _cases_of(person: Person) -> list[str]:
        try:
            return cases_of_applicant(services.engine, sealer, person.id_number)
        except SQLAlchemyError:
            return []

    async def _take_uploads(
        request: Request, data: FormData,
    ) -> tuple[dict[MaterialKind, tuple[Staged, str]], list[Problem]]:
        staged: dict[MaterialKind, tuple[Staged, str]] = {}
        problems: list[Problem] = []
        for slot in online.material_slots(policy):
            kind = slot.kind
            upload = data.get(f"file.{kind.value}")
            if isinstance(upload, UploadFile) and upload.filename:
                try:
                    item = await staging.accept(kind, upload)
                    staged[kind] = (item, staging.token(item))
                    names = request.session.setdefault("staged", [])
                    if isinstance(names, list) and item.sha256 not in names:
                        names.append(item.sha256)
                    continue
                except UploadProblem as problem:
                    problems.append(Problem(field=f"material.{kind.value}",
                                            message=f"{active_catalogue().material_labels()[kind]}：{problem}"))
            token = data.get(f"staged.{kind.value}")
            if isinstance(token, str) and token:
                earlier = staging.from_token(kind, token)
                if earlier is not None:
                    staged[kind] = (earlier, token)
        return staged, problems

    @app.get("/accepted", response_class=HTMLResponse)
    async def accepted(request: Request) -> Response:
        number = request.session.get("receipt")
        if not isinstance(number, str) or request.session.get("case") != number:
            return RedirectResponse("/progress", status_code=303)
        at_window = [m for m in online.window_matters(policy) if m.code.value in request.session.get("at_window", [])]
        return page(request, "accepted.html", {
            "case_number": number, "code": query_code(number, services.keys.query_code_key), "at_window": at_window,
        })

    # --- follow the case ---------------------------------------------------------------------------

    letter.add_routes(app, services, page, message)

    @app.get("/progress", response_class=HTMLResponse)
    async def progress_page(request: Request) -> Response:
        number = request.session.get("case")
        if not isinstance(number, str):
            if _person(request) is not None:
                return RedirectResponse("/mine", status_code=303)
            return page(request, "login.html", {"typed_number": ""})
        snapshot = await _status(request, number)
        if isinstance(snapshot, Response):
            return snapshot
        return await _progress(request, snapshot)

    async def _status(request: Request, number: str) -> StatusSnapshot | Response:
        try:
            return await asyncio.wait_for(case_status(services.client, number), timeout=CALL_TIMEOUT_SECONDS)
        except NotFound:
            return message(request, "暂未查到该案件的办理信息，请稍后再试或到窗口咨询。", signed_in=True)
        except (RPCError, TimeoutError, OSError) as err:
            log.warning("portal_status_unavailable", error=type(err).__name__)
            return message(request, "系统暂时无法查询，请稍后再试。", status_code=503, signed_in=True)

    async def _progress(request: Request, snapshot: StatusSnapshot, typed: ratings.Typed | None = None,
                        error: str = "", status_code: int = 200) -> HTMLResponse:
        content = await run_in_threadpool(
            progress.build, snapshot, policy, calendar=services.calendar, samples=_samples, today=services.today(),
        )
        try:
            given = await run_in_threadpool(ratings.given, services.engine, snapshot.case_number)
            slots = ratings.slots(snapshot, given, typed, error)
        except SQLAlchemyError as err:  # the page without its rating forms rather than no page
            log.warning("portal_ratings_unavailable", error=type(err).__name__)
            slots = {}
        return page(request, "progress.html", {
            "progress": content, "ratings": slots, "scores": ratings.SCORES,
            "comment_max": ratings.COMMENT_MAX_CHARS, "can_add": await _may_add(request, snapshot),
        }, status_code=status_code)

    # --- matters added to one's own online case ---------------------------------------------------------

    async def _may_add(request: Request, snapshot: StatusSnapshot) -> bool:
        """Whether the signed-in person may add matters to this case: it is their own online case, running or
        办结 (a withdrawn or refused case is applied for anew)."""
        person = _person(request)
        return (person is not None and snapshot.channel == Channel.ONLINE and snapshot.case_state in ADDABLE
                and snapshot.case_number in await run_in_threadpool(_cases_of, person))

    async def _addition_target(request: Request) -> intake.AdditionTarget | Response:
        """The case the signed-in applicant adds to, or the answer for a case that is not theirs to add to (the
        same words as for a case they cannot see)."""
        number = request.session.get("case")
        person = _person(request)
        if person is None:
            return RedirectResponse("/signin?then=/progress", status_code=303)
        if not isinstance(number, str):
            return RedirectResponse("/mine", status_code=303)
        snapshot = await _status(request, number)
        if isinstance(snapshot, Response):
            return snapshot
        if not await _may_add(request, snapshot):
            log.info("portal_addition_not_own")
            return message(request, NOT_YOURS, status_code=404, mine=True)
        try:
            return await asyncio.wait_for(intake.addition_target(services.client, number, services.engine, sealer),
                                          timeout=CALL_TIMEOUT_SECONDS)
        except (NotFound, OperationRefused):
            return message(request, ADDITION_NOT_NOW, status_code=409, signed_in=True)
        except (RPCError, TimeoutError, OSError, SQLAlchemyError) as err:
            log.warning("portal_addition_unavailable", error=type(err).__name__)
            return message(request, "系统暂时无法受理，请稍后再试。", status_code=503, signed_in=True)

    def add_page(request: Request, target: intake.AdditionTarget, typed: online.Typed, *,
                 problems: list[Problem] | None = None,
                 staged: Mapping[MaterialKind, tuple[Staged, str]] | None = None,
                 refused_matters: list[MatterDefinition] | None = None,
                 materials: list[tuple[MaterialKind, str]] | None = None, status_code: int = 200) -> HTMLResponse:
        offered = [m for m in online.online_matters(policy) if m.code not in target.present]
        have = {ref.kind for ref in target.application.materials}
        labels = active_catalogue().material_labels()
        needed = dict.fromkeys(kind for m in offered for kind in m.required_materials if kind not in have)
        problems = problems or []
        return page(request, "add.html", {
            "case_number": target.case_number, "running": target.running,
            "online": offered, "window_matters": online.window_matters(policy),
            "inputs": online.situation_inputs(), "typed": typed,
            # A case without an account (only terminations so far) takes its first one with a paying matter.
            "payee_inputs": () if target.application.applicant.bank_account.given else online.payee_inputs(),
            "slots": [online.MaterialSlot(kind, labels[kind], "所选事项需要时必交") for kind in needed],
            "problems": problems, "problems_header": PROBLEMS_HEADER,
            "placed": online.place_problems(problems, materials or []),
            "staged": staged or {}, "refused_matters": refused_matters or [],
            "max_mb": settings.portal_max_upload_bytes // (1024 * 1024),
        }, status_code=status_code)

    @app.get("/progress/add", response_class=HTMLResponse)
    async def add_form(request: Request) -> Response:
        target = await _addition_target(request)
        if isinstance(target, Response):
            return target
        situations = target.application.situations.model_dump(mode="json")
        return add_page(request, target, online.typed_situations(situations))

    @app.post("/progress/add", response_class=HTMLResponse)
    async def add_submit(request: Request) -> Response:
        if not services.apply_quota.take(client_key(request)):
            log.warning("portal_addition_quota")
            return message(request, BUSY, status_code=429)
        async with request.form(max_files=len(active_catalogue().materials) + 1, max_fields=100) as data:
            if not _csrf_ok(request, data):
                return message(request, EXPIRED, status_code=403)
            target = await _addition_target(request)
            if isinstance(target, Response):
                return target
            fields = {key: value for key, value in data.multi_items() if isinstance(value, str)}
            typed = online.read_addition(fields, [key for key, value in data.multi_items() if value == "true"],
                                         [value for value in data.getlist("matters") if isinstance(value, str)],
                                         with_payee=not target.application.applicant.bank_account.given)
            staged, upload_problems = await _take_uploads(request, data)
        materials = [(kind, item.sha256) for kind, (item, _) in staged.items()]
        refused = [m for code in typed.matters if (m := online.window_only(policy, code)) is not None]
        checked = intake.check_addition_form(online.addition_form(typed, materials), staging.folder, target, policy,
                                             services.today())
        problems = (checked if isinstance(checked, list) else []) + upload_problems
        if problems or isinstance(checked, list):
            return add_page(request, target, typed, problems=problems, staged=staged, refused_matters=refused,
                            materials=materials)
        addition, files = checked
        try:
            # The portal's own key (never the window's): the case takes its word for the online matters only.
            added = await asyncio.wait_for(intake.submit_addition(
                addition, files, target, PORTAL_CLERK, services.client, settings, signer(services.keys, Issuer.PORTAL),
                register=services.engine, sealer=sealer), timeout=CALL_TIMEOUT_SECONDS)
        except OperationRefused as refusal:
            return add_page(request, target, typed, problems=[Problem(field="form", message=refusal.message)],
                            staged=staged, status_code=409)
        except (RPCError, TimeoutError, OSError, KeyError_) as err:
            log.warning("portal_addition_unavailable", error=type(err).__name__)
            text = "系统暂时无法受理，请稍后重新提交（已填写的内容和已上传的材料会保留）。"
            return add_page(request, target, typed, problems=[Problem(field="form", message=text)], staged=staged,
                            status_code=503)
        staging.discard([item.sha256 for item, _ in staged.values()])
        request.session.pop("staged", None)
        request.session["case"] = added.case_number
        log.info("portal_matters_added", case_number=added.case_number, matters=len(addition.matters),
                 linked=added.earlier_case is not None)
        if added.earlier_case is not None:
            # A new case: the family needs its query code as with any receipt.
            request.session["receipt"] = added.case_number
            request.session["at_window"] = []
            return RedirectResponse("/accepted", status_code=303)
        return message(request, added.message, to_progress=True)

    # --- 好差评 ----------------------------------------------------------------------------------------

    @app.get("/rate")
    async def rate_link(request: Request) -> Response:
        """The SMS's rating link: the family signs in with the case number and query code as usual."""
        return RedirectResponse("/progress", status_code=303)

    @app.post("/rating", response_class=HTMLResponse)
    async def rate(request: Request) -> Response:
        if not services.progress_quota.take(client_key(request)):
            log.warning("portal_rating_quota")
            return message(request, BUSY, status_code=429)
        data = await request.form(max_files=0, max_fields=10)
        if not _csrf_ok(request, data):
            return message(request, EXPIRED, status_code=403)
        number = request.session.get("case")
        if not isinstance(number, str):
            return page(request, "login.html", {"typed_number": ""}, status_code=403)
        typed, error = ratings.read({key: value for key, value in data.items() if isinstance(value, str)})
        snapshot = await _status(request, number)
        if isinstance(snapshot, Response):
            return snapshot
        open_now = ratings.rateable(snapshot)
        if typed.subject not in open_now:
            return message(request, ratings.NOT_YET, status_code=409, signed_in=True)
        if error or typed.score is None:
            return await _progress(request, snapshot, typed, error or ratings.NO_SCORE, status_code=400)
        _, department = open_now[typed.subject]
        try:
            stored = await run_in_threadpool(ratings.record, services.engine, number, typed.subject, department,
                                             typed.score, typed.comment, datetime.now(UTC))
        except SQLAlchemyError as err:
            log.warning("portal_rating_not_recorded", error=type(err).__name__)
            return await _progress(request, snapshot, typed, "系统暂时无法保存评价，请稍后再提交。", status_code=503)
        log.info("portal_rating_recorded", case_number=number, subject=typed.subject, again=not stored)
        return RedirectResponse(f"/progress#rating-{typed.subject}", status_code=303)

    def _samples(matter: str) -> list[int]:
        try:
            return handling_samples(services.engine, matter)
        except SQLAlchemyError:
            return []

    @app.get("/mine", response_class=HTMLResponse)
    async def my_cases(request: Request) -> Response:
        person = _person(request)
        if person is None:
            return RedirectResponse("/signin?then=/progress", status_code=303)
        numbers = await run_in_threadpool(_cases_of, person)
        return page(request, "mine.html", {"cases": numbers, "typed_number": ""})

    @app.post("/mine", response_class=HTMLResponse)
    async def open_mine(request: Request) -> Response:
        data = await request.form(max_files=0, max_fields=5)
        if not _csrf_ok(request, data):
            return message(request, EXPIRED, status_code=403)
        person = _person(request)
        number = str(data.get("case_number") or "")
        if person is None or number not in await run_in_threadpool(_cases_of, person):
            return message(request, NOT_YOURS, status_code=404)
        request.session["case"] = number
        return RedirectResponse("/progress", status_code=303)

    @app.post("/progress", response_class=HTMLResponse)
    async def sign_in(request: Request) -> Response:
        client = client_key(request)
        if not services.progress_quota.take(client):
            log.warning("portal_progress_quota")
            return message(request, BUSY, status_code=429)
        data = await request.form(max_files=0, max_fields=10)
        if not _csrf_ok(request, data):
            return message(request, EXPIRED, status_code=403)
        typed_number = str(data.get("case_number") or "").strip().upper()[:20]
        code = str(data.get("code") or "")[:20]
        person = _person(request)
        # A signed-in person is counted as themselves, wherever they are; an anonymous attempt by its address
        # and the case number it tries.
        keys: list[tuple[Backoff, str]] = (
            [(services.per_person, sealer.lookup_hash(person.id_number))] if person is not None
            else [(services.per_client, client), (services.per_case, typed_number)])
        wait = max(limiter.wait_seconds(key) for limiter, key in keys)
        template = "mine.html" if person is not None else "login.html"
        context: dict[str, Any] = {"typed_number": typed_number}
        if person is not None:
            context["cases"] = await run_in_threadpool(_cases_of, person)
        if wait > 0:
            log.warning("portal_code_limited")
            return page(request, template, {**context, "error": too_many(wait)}, status_code=429)
        valid = is_case_number(typed_number) and code_matches(typed_number, code, services.keys.query_code_key)
        if not valid:
            for limiter, key in keys:
                limiter.fail(key)
            log.info("portal_code_wrong")
            return page(request, template, {**context, "error": WRONG_CODE})
        _renew(request)
        request.session["case"] = typed_number
        return RedirectResponse("/progress", status_code=303)

    @app.post("/logout")
    async def sign_out(request: Request) -> Response:
        data = await request.form(max_files=0, max_fields=5)
        if _csrf_ok(request, data):
            names = request.session.get("staged")
            if isinstance(names, list):
                staging.discard([str(name) for name in names])
            request.session.clear()
        return RedirectResponse("/", status_code=303)

    return app


class SecurityHeaders:
    """Every answer: not cached, not sniffed, no referrer, and a CSP that allows no script at all."""

    HEADERS = (
        (b"cache-control", b"no-store"), (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
        (b"content-security-policy", b"default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; "
                                     b"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    )

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                message = {**message, "headers": [*headers, *self.HEADERS]}
            await send(message)

        await self.app(scope, receive, with_headers)


def _csrf(request: Request) -> str:
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def _csrf_ok(request: Request, data: FormData) -> bool:
    expected = request.session.get("csrf")
    sent = data.get("csrf_token")
    return isinstance(expected, str) and isinstance(sent, str) and hmac.compare_digest(expected, sent)


def _person(request: Request) -> Person | None:
    value = request.session.get("person")
    if isinstance(value, dict) and isinstance(value.get("name"), str) and isinstance(value.get("id_number"), str):
        return Person(name=value["name"], id_number=value["id_number"])
    return None


def _consented(request: Request) -> bool:
    given = request.session.get("consent")
    return isinstance(given, dict) and given.get("version") == consent.NOTICE_VERSION


def _renew(request: Request) -> None:
    """Sign-in: the session gets a new id and a new CSRF token; what it held is kept (a signed-in person
    who follows a case by its code stays signed in)."""
    request.session[RENEW] = True
    request.session["csrf"] = secrets.token_urlsafe(32)


__all__ = ["PortalServices", "create_app"]
