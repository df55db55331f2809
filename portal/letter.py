"""The heirs' letter on the portal: a page and its PDF, for the family following a finished case.

Only the case this session follows (``session["case"]``: opened with its query code, or chosen among the
signed-in applicant's own) is ever shown; a session that follows none is sent to /progress. A case not yet
办结 has no letter (404). The PDF's filename names no person and no case.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from temporalio.service import RPCError

from client.errors import NotFound
from client.letter_pdf import LetterFontMissing, render_pdf
from client.operations import case_status
from domain.heirs_letter import Letter, LetterNotReady, build_letter, load_guidance

log = structlog.get_logger()

NOT_READY = "案件全部办结后，可在此查看和下载继承人告知书。"
PDF_FILENAME = "heirs-letter.pdf"
CALL_TIMEOUT_SECONDS = 30.0

Page = Callable[..., HTMLResponse]


def add_routes(app: FastAPI, services: Any, page: Page, message: Callable[..., HTMLResponse]) -> None:
    """GET /progress/letter (the letter as a page) and GET /progress/letter.pdf."""
    settings, policy = services.settings, services.policy
    guidance = load_guidance(settings.heirs_guidance_file)

    async def letter_of(request: Request) -> Letter | Response:
        number = request.session.get("case")
        if not isinstance(number, str):
            return RedirectResponse("/progress", status_code=303)
        try:
            snapshot = await asyncio.wait_for(case_status(services.client, number), timeout=CALL_TIMEOUT_SECONDS)
        except NotFound:
            return message(request, NOT_READY, status_code=404, signed_in=True)
        except (RPCError, TimeoutError, OSError) as err:
            log.warning("portal_letter_status_unavailable", error=type(err).__name__)
            return message(request, "系统暂时无法查询，请稍后再试。", status_code=503, signed_in=True)
        try:
            return build_letter(snapshot, guidance, timezone=policy.timezone, window=policy.window)
        except LetterNotReady:
            return message(request, NOT_READY, status_code=404, signed_in=True)

    @app.get("/progress/letter", response_class=HTMLResponse)
    async def letter_page(request: Request) -> Response:
        letter = await letter_of(request)
        if isinstance(letter, Response):
            return letter
        return page(request, "letter.html", {"letter": letter})

    @app.get("/progress/letter.pdf")
    async def letter_pdf(request: Request) -> Response:
        letter = await letter_of(request)
        if isinstance(letter, Response):
            return letter
        try:
            pdf = await run_in_threadpool(render_pdf, letter, settings.letter_font_file)
        except LetterFontMissing:
            log.error("portal_letter_font_missing")
            return message(request, "告知书暂时无法生成PDF，请先在网页上查看，或到窗口领取。", status_code=503,
                           signed_in=True)
        log.info("portal_letter_pdf")
        return Response(pdf, media_type="application/pdf",
                        headers={"content-disposition": f'attachment; filename="{PDF_FILENAME}"'})


