"""A hard cap on the bytes the portal reads from one request body, however it is sent.

The bytes are counted as they arrive from the server (``http.request`` messages), not taken from
``Content-Length``: a chunked body has none. Past the cap the application is stopped mid-read and the answer
is 413, so nothing behind it (the multipart parser's spool files, the staging folder) ever holds more than
the cap. A declared ``Content-Length`` above the cap is refused before any of the body is read.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

TOO_LARGE_PAGE = (
    '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>提交的内容过大</title>'
    "<p>提交的内容过大，请压缩材料文件后重新提交。</p></html>"
).encode()


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.max_bytes:
                    await _too_large(send)
                    return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if not started:
                await _too_large(send)


async def _too_large(send: Send) -> None:
    await send({"type": "http.response.start", "status": 413, "headers": [
        (b"content-type", b"text/html; charset=utf-8"), (b"content-length", str(len(TOO_LARGE_PAGE)).encode()),
        (b"connection", b"close"), (b"cache-control", b"no-store"),
    ]})
    await send({"type": "http.response.body", "body": TOO_LARGE_PAGE})
