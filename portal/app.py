"""The portal's pages: apply online, the receipt with the query code, and the progress page.

Security, in short: every form carries a CSRF token bound to the session; the session cookie is signed,
HttpOnly and SameSite=Strict (Secure behind HTTPS); no page URL carries a case number; the progress page
opens only after the case number and its query code were posted, and wrong codes are limited per case
number and per client address (``portal/limits.py``). A wrong code is answered the same way whether the
case exists or not: the code is checked before the case is looked up.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
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
from starlette.middleware.sessions import SessionMiddleware
from temporalio.client import Client
from temporalio.service import RPCError

from domain.application import PROBLEMS_HEADER, allowed_matters
from domain.catalogue import MATERIAL_LABELS, MatterDefinition
from domain.enums import MaterialKind
from domain.ids import is_case_number
from domain.models import Problem
from domain.policy import Policy
from domain.query_code import code_matches, query_code
from portal import form as online
from portal import progress
from portal.limits import PER_CASE, PER_CLIENT, FailureLimiter
from portal.prediction import Calendar
from portal.uploads import Staged, Staging, UploadProblem
from register.durations import handling_samples
from runtime.keys import Keys
from runtime.settings import Settings
from starter import intake
from starter.errors import InvalidInput
from starter.operations import DuplicateCase, NotFound, OperationRefused, case_status

log = structlog.get_logger()

HERE = Path(__file__).parent
CALL_TIMEOUT_SECONDS = 30.0
WRONG_CODE = "受理编号或查询码不正确，请核对受理短信或受理回执后重新输入。"
TOO_MANY = "查询码错误次数过多，请15分钟后再试。"
EXPIRED = "页面已过期，请返回重新打开页面后再提交。"


@dataclass
class PortalServices:
    settings: Settings
    policy: Policy
    keys: Keys
    client: Client
    engine: Engine
    calendar: Calendar
    today: Callable[[], date]
    per_case: FailureLimiter = field(default_factory=lambda: FailureLimiter(PER_CASE))
    per_client: FailureLimiter = field(default_factory=lambda: FailureLimiter(PER_CLIENT))


def _secret(keys: Keys, purpose: bytes) -> bytes:
    return hmac.new(keys.query_code_key, b"shenhou portal " + purpose, hashlib.sha256).digest()


def create_app(services: PortalServices) -> FastAPI:
    settings, policy = services.settings, services.policy
    app = FastAPI(title="身后一件事一次办", docs_url=None, redoc_url=None, openapi_url=None)
    staging = Staging(settings.data_dir / "portal-uploads", _secret(services.keys, b"uploads"),
                      settings.portal_max_upload_bytes)
    environment = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape())
    templates = Jinja2Templates(env=environment)
    # Every field, all files at their limit, and room for the multipart framing.
    max_body = settings.portal_max_upload_bytes * (len(MaterialKind) + 1) + 1024 * 1024

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > max_body):
            return HTMLResponse("<p>提交的内容过大，请压缩材料文件后重新提交。</p>", status_code=413)
        response = await call_next(request)
        response.headers["Cache-Control"] = "no-store"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'none'; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        return response

    # Added after ``guard`` so it runs outside it: the session exists before any page is built.
    app.add_middleware(
        SessionMiddleware, secret_key=_secret(services.keys, b"session").hex(), session_cookie="shenhou_portal",
        max_age=settings.portal_session_minutes * 60, same_site="strict", https_only=settings.portal_cookie_secure,
    )
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")

    def page(request: Request, name: str, context: Mapping[str, Any], status_code: int = 200) -> HTMLResponse:
        return templates.TemplateResponse(request, name, {
            "window": policy.window, "csrf_token": _csrf(request), "county": policy.county, **context,
        }, status_code=status_code)

    # --- home and health ---------------------------------------------------------------------------

    @app.get("/", response_class=HTMLResponse)
    async def home(request: Request) -> HTMLResponse:
        return page(request, "index.html", {"online": online.online_matters(policy),
                                            "window_matters": online.window_matters(policy)})

    @app.get("/health")
    async def health() -> JSONResponse:
        return JSONResponse({"ok": True})

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
        }, status_code=status_code)

    @app.get("/apply", response_class=HTMLResponse)
    async def apply_form(request: Request, matter: str = "") -> HTMLResponse:
        typed = online.Typed()
        refused = online.window_only(policy, matter)
        if any(m.code.value == matter for m in online.online_matters(policy)):
            typed.matters = [matter]
        return apply_page(request, typed, refused_matters=[refused] if refused else [])

    @app.post("/apply", response_class=HTMLResponse)
    async def apply_submit(request: Request) -> Response:
        async with request.form(max_files=len(MaterialKind) + 1, max_fields=200) as data:
            if not _csrf_ok(request, data):
                return page(request, "message.html", {"message": EXPIRED}, status_code=403)
            fields = {key: value for key, value in data.multi_items() if isinstance(value, str)}
            typed = online.read_typed(
                fields, [key for key, value in data.multi_items() if value == "true"],
                [value for value in data.getlist("matters") if isinstance(value, str)], policy,
            )
            staged, upload_problems = await _take_uploads(data)
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
        except DuplicateCase:
            message = "该逝者已有申请，不能重复申请。请凭受理短信中的受理编号和查询码查询办理进度，或到窗口咨询。"
            return apply_page(request, typed, problems=[Problem(field="form", message=message)], staged=staged)
        except (OperationRefused, InvalidInput) as refusal:
            return apply_page(request, typed, problems=[Problem(field="form", message=refusal.message)],
                              staged=staged)
        except (RPCError, TimeoutError, OSError) as err:
            log.warning("portal_submit_unavailable", error=type(err).__name__)
            message = "系统暂时无法受理，请稍后重新提交（已填写的内容和已上传的材料会保留）。"
            return apply_page(request, typed, problems=[Problem(field="form", message=message)], staged=staged,
                              status_code=503)
        at_window = [m.code.value for m in online.window_matters(policy)
                     if m.code in allowed_matters(checked.application.situations)]
        _sign_in(request, started.case_number)
        request.session["receipt"] = started.case_number
        request.session["at_window"] = at_window
        log.info("portal_case_started", case_number=started.case_number, matters=len(checked.application.matters))
        return RedirectResponse("/accepted", status_code=303)

    async def _take_uploads(
        data: FormData,
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
                    continue
                except UploadProblem as problem:
                    problems.append(Problem(field=f"material.{kind.value}",
                                            message=f"{MATERIAL_LABELS[kind]}：{problem}"))
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

    @app.get("/progress", response_class=HTMLResponse)
    async def progress_page(request: Request) -> HTMLResponse:
        number = request.session.get("case")
        if not isinstance(number, str):
            return page(request, "login.html", {"typed_number": ""})
        try:
            snapshot = await asyncio.wait_for(case_status(services.client, number), timeout=CALL_TIMEOUT_SECONDS)
        except NotFound:
            return page(request, "message.html", {"message": "暂未查到该案件的办理信息，请稍后再试或到窗口咨询。",
                                                  "signed_in": True})
        except (RPCError, TimeoutError, OSError) as err:
            log.warning("portal_status_unavailable", error=type(err).__name__)
            return page(request, "message.html", {"message": "系统暂时无法查询，请稍后再试。", "signed_in": True},
                        status_code=503)
        content = await run_in_threadpool(
            progress.build, snapshot, policy, calendar=services.calendar, samples=_samples, today=services.today(),
        )
        return page(request, "progress.html", {"progress": content})

    def _samples(matter: str) -> list[int]:
        try:
            return handling_samples(services.engine, matter)
        except SQLAlchemyError:
            return []

    @app.post("/progress", response_class=HTMLResponse)
    async def sign_in(request: Request) -> Response:
        data = await request.form(max_files=0, max_fields=10)
        if not _csrf_ok(request, data):
            return page(request, "message.html", {"message": EXPIRED}, status_code=403)
        typed_number = str(data.get("case_number") or "").strip().upper()[:20]
        code = str(data.get("code") or "")[:20]
        client_key = request.client.host if request.client else "unknown"
        if services.per_client.blocked(client_key) or services.per_case.blocked(typed_number):
            log.warning("portal_code_limited")
            return page(request, "login.html", {"typed_number": typed_number, "error": TOO_MANY}, status_code=429)
        valid = is_case_number(typed_number) and code_matches(typed_number, code, services.keys.query_code_key)
        if not valid:
            services.per_client.fail(client_key)
            services.per_case.fail(typed_number)
            log.info("portal_code_wrong")
            return page(request, "login.html", {"typed_number": typed_number, "error": WRONG_CODE})
        _sign_in(request, typed_number)
        return RedirectResponse("/progress", status_code=303)

    @app.post("/logout")
    async def sign_out(request: Request) -> Response:
        data = await request.form(max_files=0, max_fields=5)
        if _csrf_ok(request, data):
            request.session.clear()
        return RedirectResponse("/", status_code=303)

    return app


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


def _sign_in(request: Request, case_number: str) -> None:
    """A fresh session for the case (and a new CSRF token): nothing of an earlier session carries over."""
    request.session.clear()
    request.session["case"] = case_number
    request.session["csrf"] = secrets.token_urlsafe(32)


__all__ = ["PortalServices", "create_app"]
