"""Codec server: lets the Temporal Web UI and CLI encode and decode payloads.

Protocol (Temporal remote codec): ``POST /encode`` and ``POST /decode`` take and return
``{"payloads": [{"metadata": {"encoding": "<base64>"}, "data": "<base64>"}]}``, the proto JSON form of
``temporalio.api.common.v1.Payloads``. The UI calls both endpoints from the browser, so both answer
CORS preflights for the configured UI origins (preflights carry no credentials, so they are answered
without a token; other origins get 403).

The server decrypts whatever it is sent, so off localhost it must authenticate: with
``SHENHOU_CODEC_AUTH_JWKS_URL`` (or ``_JWKS_FILE``), ``SHENHOU_CODEC_AUTH_ISSUER`` and
``SHENHOU_CODEC_AUTH_AUDIENCE`` set, ``/encode`` and ``/decode`` require ``Authorization: Bearer <JWT>``
from that identity provider (runtime/codec_auth.py) and answer 401 otherwise. Without them it refuses to
bind anything but a loopback address unless told ``--allow-unauthenticated``. ``/health`` stays open.

With an officer key (``SHENHOU_OFFICER_SIGNING_KEY``) and authentication, ``/encode`` adds to each officer
decision it encodes the signed statement of who the token's officer is (runtime/officers.py), and
``POST /officer-statement`` gives the CLI the same; ``/decode`` masks personal data the reader's department does
not need (runtime/read_scope.py); ``GET /authorize`` answers nginx ``auth_request`` in front
of the Web UI (officers may not terminate, cancel, reset, start or batch-operate). docs/architecture.md,
"Who decided". ``GET /materials/<sha256>`` serves scans (runtime/materials.py).

Run with ``python -m runtime.codec_server``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import ipaddress
import json
import re
import sys
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

import structlog
from aiohttp import hdrs, web
from google.protobuf import json_format
from temporalio.api.common.v1 import Payload, Payloads
from temporalio.converter import PayloadCodec

from domain.catalogue import CatalogueError, load_catalogue, use_catalogue
from domain.enums import Issuer
from register.sealing import Sealer
from runtime.codec import codec_from_keys
from runtime.codec_auth import AuthError, KeysUnavailable, TokenVerifier, verifier_from_settings
from runtime.keys import KeyError_, Keys, load_keys, signer
from runtime.logging import configure_logging
from runtime.materials import MaterialStore, materials_dir
from runtime.officers import ClaimMapping, sign_decision
from runtime.read_scope import Reader, scoped_payload
from runtime.settings import Settings, get_settings
from runtime.signing import StatementSigner

log = structlog.get_logger()

DEFAULT_HOST = "127.0.0.1"
# A Temporal payload is at most a few MB; a decode batch from the UI may carry several of them.
MAX_BODY_BYTES = 16 * 1024 * 1024

ALLOW_METHODS = "POST, GET, OPTIONS"
# The UI adds Authorization-Extras (the ID token) next to the access token when it has one.
ALLOW_HEADERS = "content-type, x-namespace, authorization, authorization-extras"
PREFLIGHT_MAX_AGE = "600"

_CODEC_KEY: web.AppKey[PayloadCodec] = web.AppKey("codec")
_ORIGINS_KEY: web.AppKey[frozenset[str]] = web.AppKey("allowed_origins")
_VERIFIER_KEY: web.AppKey[TokenVerifier | None] = web.AppKey("token_verifier")
_OPERATORS_KEY: web.AppKey[frozenset[str]] = web.AppKey("operator_roles")
_SHOW_ALL_KEY: web.AppKey[bool] = web.AppKey("show_personal_data")
_MATERIALS_KEY: web.AppKey[MaterialStore | None] = web.AppKey("materials")


@dataclass(frozen=True)
class OfficerSigning:
    """The codec server's officer key and how it reads the identity provider's claims."""

    signer: StatementSigner
    mapping: ClaimMapping


_OFFICERS_KEY: web.AppKey[OfficerSigning | None] = web.AppKey("officer_signing")
JSON_PLAIN = b"json/plain"

_BAD_BODY = 'body must be JSON of the form {"payloads": [{"metadata": {...}, "data": "<base64>"}]}'
# Standard or URL-safe alphabet, padding optional (what protobuf's JSON mapping accepts).
_BASE64 = re.compile(r"[A-Za-z0-9+/_-]*={0,2}")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _json_error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def _apply_cors(request: web.Request, response: web.StreamResponse) -> None:
    origin = request.headers.get(hdrs.ORIGIN)
    response.headers.add(hdrs.VARY, "Origin")
    if origin is not None and origin in request.app[_ORIGINS_KEY]:
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_ORIGIN] = origin
        response.headers[hdrs.ACCESS_CONTROL_ALLOW_CREDENTIALS] = "true"
        response.headers[hdrs.ACCESS_CONTROL_EXPOSE_HEADERS] = hdrs.WWW_AUTHENTICATE


@web.middleware
async def _cors_and_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    response: web.StreamResponse
    try:
        response = await handler(request)
    except web.HTTPException as err:
        # Routing errors (404, 405) and body-size errors (413) as short JSON, not HTML.
        response = _json_error(err.status, err.reason)
    except Exception:
        log.exception("codec server request failed")
        response = _json_error(500, "internal error")
    _apply_cors(request, response)
    return response


async def _preflight(request: web.Request) -> web.Response:
    origin = request.headers.get(hdrs.ORIGIN)
    if origin is not None and origin not in request.app[_ORIGINS_KEY]:
        return _json_error(403, "origin not allowed")
    response = web.Response(status=204)
    response.headers[hdrs.ACCESS_CONTROL_ALLOW_METHODS] = ALLOW_METHODS
    response.headers[hdrs.ACCESS_CONTROL_ALLOW_HEADERS] = ALLOW_HEADERS
    response.headers[hdrs.ACCESS_CONTROL_MAX_AGE] = PREFLIGHT_MAX_AGE
    return response


async def _read_payloads(request: web.Request) -> Payloads | web.Response:
    # Requiring JSON also means a browser must preflight, so other web pages cannot call us blind.
    if request.content_type != "application/json":
        return _json_error(415, "expected Content-Type: application/json")
    body = await request.read()
    payloads = Payloads()
    try:
        document = json.loads(body)
        if not _looks_like_payloads(document):
            raise ValueError("not a payloads document")
        json_format.ParseDict(document, payloads)
    except (json_format.ParseError, ValueError, TypeError, RecursionError):
        return _json_error(400, _BAD_BODY)
    return payloads


def _is_base64(value: object) -> bool:
    return isinstance(value, str) and _BASE64.fullmatch(value) is not None


def _looks_like_payloads(document: object) -> bool:
    """Stricter than protobuf's JSON parser, which accepts ``[]`` and skips invalid base64."""
    if document == {}:
        # No payloads at all, as `temporal workflow signal` without --input sends them.
        return True
    if not isinstance(document, dict) or not isinstance(document.get("payloads"), list):
        return False
    for payload in document["payloads"]:
        if not isinstance(payload, dict):
            return False
        metadata = payload.get("metadata", {})
        if not isinstance(metadata, dict) or not all(map(_is_base64, metadata.values())):
            return False
        if not _is_base64(payload.get("data", "")):
            return False
    return True


async def _authenticate(
    request: web.Request, refused: str = "未登录或登录已失效，请重新登录后再查看加密内容"
) -> web.Response | dict[str, Any] | None:
    """The verified token's claims; None without a verifier (the embedded default); else the refusal
    (``refused``: its Chinese line)."""
    verifier = request.app[_VERIFIER_KEY]
    if verifier is None:
        return None
    try:
        claims = await verifier.verify(request.headers.get(hdrs.AUTHORIZATION))
    except AuthError as err:
        log.info("codec_request_refused", path=_logged_path(request), reason=err.description)
        response = web.json_response({"error": refused, "reason": err.description}, status=401)
        response.headers[hdrs.WWW_AUTHENTICATE] = err.www_authenticate()
        return response
    except KeysUnavailable as err:
        log.warning("codec_auth_keys_unavailable", reason=str(err))
        return web.json_response(
            {"error": "暂时无法核验登录凭据，请稍后再试", "reason": "identity provider keys unavailable"}, status=503
        )
    # Who decrypted: the provider's subject id, not a name.
    log.info("codec_request", path=_logged_path(request), subject=claims.get("sub"))
    return claims


_HASH_TAIL = re.compile(r"(?<=/[0-9a-f]{12})[0-9a-f]{52}(?=/|$)")


def _logged_path(request: web.Request) -> str:
    """The path, a scan's SHA-256 cut to its first 12 characters as every log line names it."""
    return _HASH_TAIL.sub("…", request.path)


async def _transform(request: web.Request, encode: bool) -> web.Response:
    claims = await _authenticate(request)
    if isinstance(claims, web.Response):
        return claims
    parsed = await _read_payloads(request)
    if isinstance(parsed, web.Response):
        return parsed
    codec = request.app[_CODEC_KEY]
    officers = request.app[_OFFICERS_KEY]
    try:
        if encode:
            payloads = list(parsed.payloads)
            if claims is not None and officers is not None:
                # A decision the signed-in officer is sending: say who they are, signed (runtime/officers.py).
                payloads = [_with_statement(officers, claims, payload) for payload in payloads]
            result = await codec.encode(payloads)
        else:
            result = _scoped(await codec.decode(parsed.payloads), _reader(request, claims))
    except ValueError as err:
        # The codec's messages name a key id at most, never payload content.
        return _json_error(400, str(err))
    body = json_format.MessageToDict(Payloads(payloads=result))
    body.setdefault("payloads", [])
    return web.json_response(body)


def _reader(request: web.Request, claims: dict[str, Any] | None) -> Reader:
    """Who reads, for the masking of what they decode (runtime/read_scope.py)."""
    if claims is None:
        return Reader(signed_in=False, trusted=request.app[_SHOW_ALL_KEY])
    officers = request.app[_OFFICERS_KEY]
    officer = (officers.mapping if officers is not None else ClaimMapping()).officer(claims)
    operator = bool(request.app[_OPERATORS_KEY].intersection(_roles(claims, officers)))
    return Reader(signed_in=True, departments=officer.departments, supervisor=officer.supervisor,
                  operator=operator)


def _scoped(payloads: list[Payload], reader: Reader) -> list[Payload]:
    result: list[Payload] = []
    masked = 0
    for payload in payloads:
        data = scoped_payload(payload.data, reader) if payload.metadata.get("encoding") == JSON_PLAIN else None
        if data is None:
            result.append(payload)
            continue
        masked += 1
        shown = Payload()
        shown.CopyFrom(payload)
        shown.data = data
        result.append(shown)
    if masked:
        log.info("codec_decoded_masked", payloads=len(payloads), masked=masked,
                 departments=[d.value for d in reader.departments], signed_in=reader.signed_in)
    return result


def _with_statement(officers: OfficerSigning, claims: dict[str, Any], payload: Payload) -> Payload:
    if payload.metadata.get("encoding") != JSON_PLAIN:
        return payload
    signed = sign_decision(officers.signer, officers.mapping.officer(claims), payload.data)
    if signed is None:
        return payload
    log.info("officer_statement_signed", subject=claims.get("sub"))
    result = Payload()
    result.CopyFrom(payload)
    result.data = signed
    return result


async def _officer_statement(request: web.Request) -> web.Response:
    """For the CLI: ``{"decision": {...}}`` with the officer's bearer token; answers the decision with the
    officer's statement added, as ``/encode`` would have added it."""
    officers = request.app[_OFFICERS_KEY]
    if request.app[_VERIFIER_KEY] is None or officers is None:
        return _json_error(404, "本服务未配置办理人身份核验")
    claims = await _authenticate(request)
    if isinstance(claims, web.Response):
        return claims
    assert claims is not None
    try:
        document = await request.json()
    except ValueError:
        return _json_error(400, 'body must be JSON of the form {"decision": {...}}')
    decision = document.get("decision") if isinstance(document, dict) else None
    signed = sign_decision(officers.signer, officers.mapping.officer(claims),
                           json.dumps(decision, ensure_ascii=False).encode())
    if signed is None:
        return _json_error(400, "不是一项可核验的办理决定（approve、reject、request_materials、extend_deadline）")
    log.info("officer_statement_signed", subject=claims.get("sub"), path=request.path)
    return web.json_response({"decision": json.loads(signed)})


async def _authorize(request: web.Request) -> web.Response:
    """nginx ``auth_request`` in front of the Web UI's API: a call only operators may make (terminate, cancel,
    reset, start, batch, delete, ...) needs a verified token with an operator role (401 without a token, 403
    without the role). Officers may read, signal, query and update; nothing here can name who signalled."""
    if request.app[_VERIFIER_KEY] is None:
        return _json_error(404, "本服务未配置登录核验")
    method = request.headers.get("X-Original-Method", "GET").upper()
    uri = request.headers.get("X-Original-URI", "/")
    if not operator_only(method, uri):
        # Reads (the UI's settings before sign-in among them), signals, queries and updates: the UI server and
        # Temporal check their own credentials; this rule only keeps operators' calls for operators.
        return web.Response(status=204)
    claims = await _authenticate(request)
    if isinstance(claims, web.Response):
        return claims
    assert claims is not None
    if not request.app[_OPERATORS_KEY].intersection(_roles(claims, request.app[_OFFICERS_KEY])):
        log.info("ui_call_denied", subject=claims.get("sub"), method=method, path=uri.partition("?")[0][:200])
        return _json_error(403, "办理人员无权执行此操作（终止、取消、重置、启动或批量操作）")
    return web.Response(status=204)


def _roles(claims: dict[str, Any], officers: OfficerSigning | None) -> set[str]:
    claim = officers.mapping.roles_claim if officers is not None else "groups"
    raw = claims.get(claim) or []
    return set(raw.split()) if isinstance(raw, str) else {str(v) for v in raw} if isinstance(raw, list) else set()


# What an officer may send through the UI besides reads: signals, queries and updates of one workflow.
_OFFICER_CALLS = re.compile(
    r"^/api/v1/namespaces/[^/]+/workflows/[^/]+(?:/runs/[^/]+)?/(?:signal|query|update)/[^/]+/?$")
_READS = frozenset({"GET", "HEAD", "OPTIONS"})


def operator_only(method: str, uri: str) -> bool:
    """Whether a Web UI API call is beyond an officer: anything but a read, a signal, a query or an update."""
    path = uri.partition("?")[0]
    if not path.startswith("/api/"):
        return False
    if method in _READS:
        return False
    return _OFFICER_CALLS.match(path) is None


async def _encode(request: web.Request) -> web.Response:
    return await _transform(request, encode=True)


async def _decode(request: web.Request) -> web.Response:
    return await _transform(request, encode=False)


_NO_SCANS = "本服务不提供扫描件，请在窗口或部门业务系统中查看"
_UNKNOWN_SCAN = "未找到该扫描件（可能已超过保存期限）"
_SCAN_HEADERS = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Content-Disposition": "inline"}


def _scan_response(data: bytes, media: str) -> web.Response:
    return web.Response(body=data, content_type=media, headers=_SCAN_HEADERS)


async def _material(request: web.Request) -> web.StreamResponse:
    """A material link (domain/brief.py). The embedded default: the scan, to the machine itself. With sign-in:
    the viewer page (``MATERIAL_PAGE``), which asks ``/materials/<sha256>/scan`` with the user's token."""
    store = request.app[_MATERIALS_KEY]
    if store is None:
        return _json_error(404, _NO_SCANS)
    sha256 = request.match_info["sha256"]
    if request.app[_VERIFIER_KEY] is not None:
        if not is_sha256(sha256):
            return _json_error(404, _UNKNOWN_SCAN)
        # The same page for every scan and every reader: it holds nothing and gives no authority.
        return web.Response(text=MATERIAL_PAGE, content_type="text/html", headers=_PAGE_HEADERS)
    if not is_loopback(request.remote or ""):
        log.info("material_refused", client=request.remote)
        return _json_error(403, "扫描件只向本机提供")
    found = store.read(sha256)
    if found is None:
        return _json_error(404, _UNKNOWN_SCAN)
    data, media = found
    log.info("material_served", sha256=sha256[:12], client=request.remote, bytes=len(data))
    return _scan_response(data, media)


async def _material_scan(request: web.Request) -> web.StreamResponse:
    """A scan for a verified token (``Authorization: Bearer``; cookies and query strings are not read): to an
    officer of a department the scan's cases involve (runtime/materials.py keeps which), or an operator.
    Supervisors are not entitled: they see names only (runtime/read_scope.py), and scans show ID numbers."""
    store = request.app[_MATERIALS_KEY]
    if store is None or request.app[_VERIFIER_KEY] is None:
        return _json_error(404, _NO_SCANS)
    sha256 = request.match_info["sha256"][:64]
    claims = await _authenticate(request, "未登录或登录已失效：请在 Web UI 重新登录后再打开扫描件")
    if isinstance(claims, web.Response):
        log.info("material_refused", sha256=sha256[:12], status=claims.status,
                 reason="not signed in" if claims.status == 401 else "identity provider keys unavailable")
        return claims
    assert claims is not None
    subject = claims.get("sub")
    found = store.read(sha256)
    if found is None:
        log.info("material_refused", subject=subject, sha256=sha256[:12], reason="unknown")
        return _json_error(404, _UNKNOWN_SCAN)
    reader = _reader(request, claims)
    involved = store.departments(sha256)
    if not reader.operator and not involved.intersection(reader.departments):
        log.info("material_refused", subject=subject, sha256=sha256[:12], reason="not entitled",
                 departments=[d.value for d in reader.departments])
        return _json_error(403, "无权查看此扫描件：只有该案所涉部门的经办人可以查看")
    data, media = found
    log.info("material_served", subject=subject, sha256=sha256[:12], bytes=len(data), operator=reader.operator)
    return _scan_response(data, media)


# The page a material link opens when staff sign in. A link click sends no Authorization header, and the UI
# keeps no token in a cookie the codec server could read (docs/deploy.md, "Scans for signed-in staff"):
# the UI (same origin, behind nginx) keeps the access token in localStorage "AuthUser" (temporalio/ui
# v2.49.1 src/lib/stores/auth-user.ts), so this page reads it there and asks for the scan with it as a
# bearer token, as the UI asks /decode. The token never goes into a URL.
_PAGE_SCRIPT = """\
(async () => {
  const say = (text) => { document.getElementById("m").textContent = text; };
  let token = "";
  try { token = JSON.parse(localStorage.getItem("AuthUser") || "{}").accessToken || ""; } catch (e) {}
  if (!token) { say("未登录：请先登录 Web UI，再从事项页面打开材料链接"); return; }
  let response;
  try {
    response = await fetch(location.pathname.replace(/\\/$/, "") + "/scan",
                           {headers: {Authorization: "Bearer " + token}, credentials: "omit", cache: "no-store"});
  } catch (e) { say("暂时无法连接服务，请稍后再试"); return; }
  if (!response.ok) {
    let text = "无法打开扫描件（" + response.status + "）";
    try { text = (await response.json()).error || text; } catch (e) {}
    say(text);
    return;
  }
  location.replace(URL.createObjectURL(await response.blob()));
})();
"""
MATERIAL_PAGE = ('<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>材料扫描件</title>'
                 '<meta name="referrer" content="no-referrer"></head><body><p id="m">正在打开扫描件…</p>'
                 f'<script>{_PAGE_SCRIPT}</script></body></html>')
_PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'sha256-"
        + base64.b64encode(hashlib.sha256(_PAGE_SCRIPT.encode()).digest()).decode()
        + "'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


def is_sha256(name: str) -> bool:
    return re.fullmatch(r"[0-9a-f]{64}", name) is not None


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def build_app(
    codec: PayloadCodec,
    allowed_origins: list[str],
    verifier: TokenVerifier | None = None,
    officers: OfficerSigning | None = None,
    operator_roles: frozenset[str] = frozenset(),
    show_personal_data: bool = False,
    materials: MaterialStore | None = None,
) -> web.Application:
    """``verifier=None``: no authentication (the embedded default on localhost). ``officers``: sign who decided
    on the decisions encoded for a verified token (needs ``verifier``). ``show_personal_data``: the embedded
    default decodes without masking (ignored with a verifier: then the reader's rights decide)."""
    app = web.Application(middlewares=[_cors_and_errors], client_max_size=MAX_BODY_BYTES)
    app[_CODEC_KEY] = codec
    app[_VERIFIER_KEY] = verifier
    app[_OFFICERS_KEY] = officers if verifier is not None else None
    app[_OPERATORS_KEY] = operator_roles
    app[_SHOW_ALL_KEY] = show_personal_data and verifier is None
    app[_MATERIALS_KEY] = materials
    app[_ORIGINS_KEY] = frozenset(origin.rstrip("/") for origin in allowed_origins)
    app.router.add_post("/encode", _encode)
    app.router.add_post("/decode", _decode)
    app.router.add_get("/health", _health)
    app.router.add_post("/officer-statement", _officer_statement)
    app.router.add_get("/authorize", _authorize)
    app.router.add_get("/materials/{sha256}", _material)
    app.router.add_get("/materials/{sha256}/scan", _material_scan)
    for path in ("/encode", "/decode", "/health"):
        app.router.add_route(hdrs.METH_OPTIONS, path, _preflight)
    return app


async def serve(
    codec: PayloadCodec,
    host: str,
    port: int,
    allowed_origins: list[str],
    verifier: TokenVerifier | None = None,
    officers: OfficerSigning | None = None,
    operator_roles: frozenset[str] = frozenset(),
    show_personal_data: bool = False,
    materials: MaterialStore | None = None,
) -> web.AppRunner:
    """Start the codec server in this event loop; stop it with ``await runner.cleanup()``.

    With ``port=0`` the OS picks a free port; ``runner.addresses`` shows it.
    """
    runner = web.AppRunner(build_app(codec, allowed_origins, verifier, officers, operator_roles, show_personal_data,
                                     materials), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    return runner


def default_origins(ui_port: int) -> list[str]:
    return [f"http://localhost:{ui_port}", f"http://127.0.0.1:{ui_port}"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _parse_args(argv: Iterable[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m runtime.codec_server",
        description="Serve /encode and /decode for the Temporal Web UI and CLI.",
    )
    parser.add_argument("--host", default=DEFAULT_HOST, help="address to bind (default: %(default)s)")
    parser.add_argument("--port", type=int, default=None, help="default: SHENHOU_CODEC_SERVER_PORT")
    parser.add_argument(
        "--origin",
        action="append",
        default=None,
        help="allowed browser origin, repeatable (default: the local Web UI on SHENHOU_UI_PORT)",
    )
    parser.add_argument(
        "--allow-unauthenticated",
        action="store_true",
        help="serve a non-loopback address without SHENHOU_CODEC_AUTH_* (anyone who reaches it can decrypt)",
    )
    return parser.parse_args(None if argv is None else list(argv))


async def _run(
    codec: PayloadCodec, host: str, port: int, origins: list[str], verifier: TokenVerifier | None,
    officers: OfficerSigning | None = None, operator_roles: frozenset[str] = frozenset(),
    show_personal_data: bool = False, materials: MaterialStore | None = None,
) -> None:
    runner = await serve(codec, host, port, origins, verifier, officers, operator_roles, show_personal_data,
                         materials)
    try:
        bound_port = runner.addresses[0][1] if runner.addresses else port
        shown_host = f"[{host}]" if ":" in host else host
        auth = "bearer tokens required" if verifier is not None else "no authentication"
        print(
            f"Codec server listening on http://{shown_host}:{bound_port} "
            f"(allowed origins: {', '.join(origins)}; {auth})",
            flush=True,
        )
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


# As the worker's: a configuration that starting again cannot fix.
EXIT_CONFIG = 3


def officer_signing(settings: Settings, keys: Keys) -> OfficerSigning | None:
    """The officer key and claim mapping; None when this server holds no officer key."""
    if Issuer.OFFICER not in keys.signing_keys:
        return None
    return OfficerSigning(signer(keys, Issuer.OFFICER), ClaimMapping.from_settings(settings))


def material_store(settings: Settings, keys: Keys, verifier: TokenVerifier | None) -> MaterialStore | None:
    """The scans this server serves to entitled staff: only with sign-in (``scripts/run`` gives the embedded
    default's its own); compose mounts the portal's store read-only."""
    if verifier is None:
        return None
    return MaterialStore(materials_dir(settings), Sealer.from_keys(keys))


def operator_roles(settings: Settings) -> frozenset[str]:
    return frozenset(role.strip() for role in settings.operator_roles.split(",") if role.strip())


def main(argv: Iterable[str] | None = None) -> int:
    args = _parse_args(argv)
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_json)
    try:
        # Who reads what (runtime/read_scope.py) and which role decides for which department follow the catalogue.
        use_catalogue(load_catalogue(settings.catalogue_file))
    except CatalogueError as err:
        print(err, file=sys.stderr)
        return EXIT_CONFIG
    try:
        keys = load_keys(settings)
        codec = codec_from_keys(keys)
        verifier = verifier_from_settings(settings)
        officers = officer_signing(settings, keys) if verifier is not None else None
    except (KeyError_, ValueError) as err:
        print(f"Cannot start the codec server: {err}", file=sys.stderr)
        return 2
    if settings.require_verified_officers and verifier is None:
        print("codec server未启动：要求核验办理人身份，但未配置身份提供方（SHENHOU_CODEC_AUTH_JWKS_URL、"
              "SHENHOU_CODEC_AUTH_ISSUER、SHENHOU_CODEC_AUTH_AUDIENCE）", file=sys.stderr)
        return EXIT_CONFIG
    if settings.require_verified_officers and not settings.officer_signing_key.strip():
        print("codec server未启动：要求核验办理人身份，但未配置办理人身份签名密钥（SHENHOU_OFFICER_SIGNING_KEY）",
              file=sys.stderr)
        return EXIT_CONFIG
    if verifier is None and not is_loopback(args.host) and not args.allow_unauthenticated:
        print(
            f"Cannot start the codec server on {args.host} without authentication: anyone who reaches it could "
            "decrypt payloads. Set SHENHOU_CODEC_AUTH_JWKS_URL (or _JWKS_FILE), SHENHOU_CODEC_AUTH_ISSUER and "
            "SHENHOU_CODEC_AUTH_AUDIENCE, or pass --allow-unauthenticated.",
            file=sys.stderr,
        )
        return 2
    port = settings.codec_server_port if args.port is None else args.port
    origins = args.origin or default_origins(settings.ui_port)
    try:
        asyncio.run(_run(codec, args.host, port, origins, verifier, officers, operator_roles(settings),
                         settings.codec_show_personal_data, material_store(settings, keys, verifier)))
    except KeyboardInterrupt:
        pass
    except OSError as err:
        print(f"Cannot start the codec server on {args.host}:{port}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
