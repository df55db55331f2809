"""`python -m runtime.stand_in_idp`: a LOCAL STAND-IN for the province's unified identity sign-in (OIDC), so
the embedded default (`scripts/run`) lets a family sign in and apply online with nothing else installed.

It verifies nobody: its sign-in page takes whatever name and 身份证号码 are typed and says so on the page. It
speaks the part of OpenID Connect the portal uses — discovery, authorization code with PKCE (S256), an ES256
ID token carrying ``name`` and ``id_number``, the key set at ``/jwks`` — with a key pair made at start (a
restart invalidates its tokens). It listens on 127.0.0.1 only and is never part of the production shape,
which configures the real provider (``SHENHOU_PORTAL_OIDC_*``, docs/deploy.md).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import html
import json
import secrets
import sys
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from runtime.settings import Settings, get_settings

CODE_SECONDS = 120
TOKEN_SECONDS = 600
# A made-up resident with a well-formed number (check digit correct), offered on the sign-in page.
SAMPLE_NAME = "张明"
SAMPLE_ID_BASE = "15022219800101001"
BANNER = "本地模拟的统一身份认证：仅供演示和测试，不核验身份。正式环境请配置省政务服务网统一身份认证。"


def id_check_digit(first17: str) -> str:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    return "10X98765432"[sum(int(d) * w for d, w in zip(first17, weights, strict=True)) % 11]


SAMPLE_ID = SAMPLE_ID_BASE + id_check_digit(SAMPLE_ID_BASE)


@dataclass
class _Grant:
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    name: str
    id_number: str
    expires: float


def create_app(issuer: str, client_id: str, redirect_uris: list[str], client_secret: str = "") -> Starlette:
    key = ec.generate_private_key(ec.SECP256R1())
    kid = secrets.token_urlsafe(8)
    public_jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    public_jwk.update(kid=kid, use="sig", alg="ES256")
    grants: dict[str, _Grant] = {}

    def refuse(message: str, status: int = 400) -> HTMLResponse:
        return HTMLResponse(f"<p>{html.escape(message)}</p>", status_code=status)

    async def discovery(_: Request) -> Response:
        return JSONResponse({
            "issuer": issuer, "authorization_endpoint": f"{issuer}/authorize", "token_endpoint": f"{issuer}/token",
            "jwks_uri": f"{issuer}/jwks", "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"], "code_challenge_methods_supported": ["S256"],
            "scopes_supported": ["openid", "profile"], "claims_supported": ["sub", "name", "id_number"],
        })

    async def jwks(_: Request) -> Response:
        return JSONResponse({"keys": [public_jwk]})

    def check_client(params: Any) -> str | None:
        if params.get("client_id") != client_id:
            return "unknown client"
        if params.get("redirect_uri") not in redirect_uris:
            return "redirect_uri not registered"
        if params.get("response_type") != "code" or params.get("code_challenge_method") != "S256":
            return "only the code flow with PKCE (S256) is offered"
        if not params.get("code_challenge") or not params.get("state"):
            return "code_challenge and state are required"
        return None

    async def authorize(request: Request) -> Response:
        if request.method == "GET":
            params: Any = request.query_params
            problem = check_client(params)
            if problem:
                return refuse(problem)
            hidden = "".join(
                f'<input type="hidden" name="{name}" value="{html.escape(params.get(name, ""))}">'
                for name in ("client_id", "redirect_uri", "response_type", "state", "nonce", "code_challenge",
                             "code_challenge_method"))
            return HTMLResponse(_PAGE.format(banner=html.escape(BANNER), hidden=hidden,
                                             name=html.escape(SAMPLE_NAME), id_number=SAMPLE_ID))
        form = await request.form()
        problem = check_client(form)
        if problem:
            return refuse(problem)
        name = str(form.get("name") or "").strip()
        id_number = str(form.get("id_number") or "").strip().upper()
        if not name or len(id_number) != 18:
            return refuse("请填写姓名和18位身份证号码")
        code = secrets.token_urlsafe(24)
        grants[code] = _Grant(client_id, str(form["redirect_uri"]), str(form["code_challenge"]),
                              str(form.get("nonce") or ""), name, id_number, time.time() + CODE_SECONDS)
        query = urlencode({"code": code, "state": str(form["state"])})
        return RedirectResponse(f"{form['redirect_uri']}?{query}", status_code=303)

    async def token(request: Request) -> Response:
        form = await request.form()
        grant = grants.pop(str(form.get("code") or ""), None)
        error = None
        if grant is None or grant.expires < time.time():
            error = "invalid_grant"
        elif form.get("grant_type") != "authorization_code" or form.get("client_id") != grant.client_id:
            error = "invalid_client"
        elif client_secret and not secrets.compare_digest(str(form.get("client_secret") or ""), client_secret):
            error = "invalid_client"
        elif form.get("redirect_uri") != grant.redirect_uri:
            error = "invalid_grant"
        else:
            digest = hashlib.sha256(str(form.get("code_verifier") or "").encode("ascii", "replace")).digest()
            if base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii") != grant.challenge:
                error = "invalid_grant"
        if error or grant is None:
            return JSONResponse({"error": error}, status_code=400)
        now = int(time.time())
        subject = hashlib.sha256(grant.id_number.encode()).hexdigest()[:32]
        claims = {"iss": issuer, "aud": grant.client_id, "sub": subject, "iat": now, "exp": now + TOKEN_SECONDS,
                  "nonce": grant.nonce, "name": grant.name, "id_number": grant.id_number}
        id_token = jwt.encode(claims, key, algorithm="ES256", headers={"kid": kid})
        return JSONResponse({"access_token": secrets.token_urlsafe(24), "token_type": "Bearer",
                             "expires_in": TOKEN_SECONDS, "id_token": id_token},
                            headers={"Cache-Control": "no-store"})

    return Starlette(routes=[
        Route("/.well-known/openid-configuration", discovery),
        Route("/jwks", jwks),
        Route("/authorize", authorize, methods=["GET", "POST"]),
        Route("/token", token, methods=["POST"]),
    ])


_PAGE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>统一身份认证（本地模拟）</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:1rem auto;padding:0 1rem}}
.banner{{background:#fde8e8;border:2px solid #b91c1c;color:#7f1d1d;padding:.75rem;font-weight:bold}}
label{{display:block;margin:.75rem 0 .25rem}}input[type=text]{{width:100%;padding:.5rem;font-size:1rem}}
button{{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}}</style></head><body>
<p class="banner" role="alert">{banner}</p>
<h1>统一身份认证（本地模拟）</h1>
<form method="post" action="/authorize">{hidden}
<label for="name">姓名</label><input type="text" id="name" name="name" value="{name}">
<label for="id_number">身份证号码</label><input type="text" id="id_number" name="id_number" value="{id_number}">
<button type="submit">登录</button></form></body></html>"""


def stand_in_from_settings(settings: Settings) -> Starlette:
    from portal.signin import Provider  # the portal's view of the provider: the same URLs on both sides

    provider = Provider.from_settings(settings)
    return create_app(provider.issuer, provider.client_id, [provider.redirect_url], provider.client_secret)


def main() -> int:
    settings = get_settings()
    if settings.portal_oidc_issuer:
        print("stand-in identity provider not started: SHENHOU_PORTAL_OIDC_ISSUER names the real one",
              file=sys.stderr)
        return 0
    config = uvicorn.Config(stand_in_from_settings(settings), host="127.0.0.1", port=settings.stand_in_idp_port,
                            log_config=None, access_log=False, server_header=False)
    try:
        asyncio.run(uvicorn.Server(config).serve())
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
