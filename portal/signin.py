"""Sign-in for online applicants through the province's unified identity provider (OIDC).

Authorization code flow with PKCE (S256), ``state`` and ``nonce`` kept in the server-side session. The ID
token is verified by the project's one token verifier (``runtime/codec_auth.py``: the provider's JWKS,
``iss``, ``aud`` = this client, ``exp``), then its ``nonce``; the verified name and 身份证号码 come from the
claims named in the settings. The code is exchanged at the token endpoint over the server's own connection
(httpx), with the client secret when one is configured.

With no issuer configured, the provider is the local stand-in (``runtime/stand_in_idp.py``), which
``scripts/run`` starts beside the portal: plainly not an identity check, for the embedded default only.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from runtime.codec_auth import AuthError, JwksUrl, KeysUnavailable, TokenVerifier
from runtime.settings import Settings

TOKEN_TIMEOUT_S = 10.0
# A pending sign-in (state, nonce, PKCE verifier) is good for this long.
PENDING_SECONDS = 600
_ID_NUMBER = re.compile(r"^\d{17}[\dX]$")


class SignInSettingsError(ValueError):
    """The identity provider's settings are incomplete; the message names the settings."""


class SignInFailed(Exception):
    """The sign-in did not complete; the reason is for the log (it names no person)."""


@dataclass(frozen=True)
class Person:
    """The signed-in applicant as the identity provider verified them."""

    name: str
    id_number: str


@dataclass(frozen=True)
class Provider:
    issuer: str
    authorization_url: str
    token_url: str
    jwks_url: str
    client_id: str
    client_secret: str
    redirect_url: str
    scopes: str
    name_claim: str
    id_number_claim: str
    stand_in: bool

    @classmethod
    def from_settings(cls, settings: Settings) -> Provider:
        redirect = settings.portal_oidc_redirect_url or (
            (settings.portal_public_url.rstrip("/") or f"http://{settings.portal_host}:{settings.portal_port}")
            + "/signin/callback")
        if not settings.portal_oidc_issuer:
            base = f"http://127.0.0.1:{settings.stand_in_idp_port}"
            return cls(issuer=base, authorization_url=f"{base}/authorize", token_url=f"{base}/token",
                       jwks_url=f"{base}/jwks", client_id=settings.portal_oidc_client_id,
                       client_secret=settings.portal_oidc_client_secret, redirect_url=redirect,
                       scopes=settings.portal_oidc_scopes, name_claim="name", id_number_claim="id_number",
                       stand_in=True)
        missing = [name for name, value in (
            ("SHENHOU_PORTAL_OIDC_AUTHORIZATION_URL", settings.portal_oidc_authorization_url),
            ("SHENHOU_PORTAL_OIDC_TOKEN_URL", settings.portal_oidc_token_url),
            ("SHENHOU_PORTAL_OIDC_JWKS_URL", settings.portal_oidc_jwks_url),
            ("SHENHOU_PORTAL_OIDC_CLIENT_ID", settings.portal_oidc_client_id),
        ) if not value]
        if missing:
            raise SignInSettingsError(f"SHENHOU_PORTAL_OIDC_ISSUER is set but {', '.join(missing)} is not")
        return cls(issuer=settings.portal_oidc_issuer, authorization_url=settings.portal_oidc_authorization_url,
                   token_url=settings.portal_oidc_token_url, jwks_url=settings.portal_oidc_jwks_url,
                   client_id=settings.portal_oidc_client_id, client_secret=settings.portal_oidc_client_secret,
                   redirect_url=redirect, scopes=settings.portal_oidc_scopes,
                   name_claim=settings.portal_oidc_name_claim, id_number_claim=settings.portal_oidc_id_number_claim,
                   stand_in=False)


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


class SignIn:
    def __init__(self, provider: Provider, verifier: TokenVerifier | None = None,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.provider = provider
        self._verifier = verifier or TokenVerifier(JwksUrl(provider.jwks_url), issuer=provider.issuer,
                                                   audience=provider.client_id)
        self._transport = transport

    def start(self, session: MutableMapping[str, Any], now: float, then: str) -> str:
        """The provider's sign-in address; the pending sign-in is kept in ``session``."""
        state, nonce, code_verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(24), secrets.token_urlsafe(48)
        session["oidc"] = {"state": state, "nonce": nonce, "verifier": code_verifier, "at": now,
                           "then": then if then in ("/apply", "/progress") else "/apply"}
        query = urlencode({
            "response_type": "code", "client_id": self.provider.client_id, "redirect_uri": self.provider.redirect_url,
            "scope": self.provider.scopes, "state": state, "nonce": nonce,
            "code_challenge": _challenge(code_verifier), "code_challenge_method": "S256",
        })
        separator = "&" if "?" in self.provider.authorization_url else "?"
        return f"{self.provider.authorization_url}{separator}{query}"

    async def finish(self, session: MutableMapping[str, Any], now: float, state: str, code: str) -> tuple[Person, str]:
        """The signed-in person and the page to go to, or ``SignInFailed``."""
        pending = session.pop("oidc", None)
        if not isinstance(pending, dict) or not state or not secrets.compare_digest(str(pending.get("state")), state):
            raise SignInFailed("state does not match a pending sign-in")
        if now - float(pending.get("at", 0)) > PENDING_SECONDS:
            raise SignInFailed("pending sign-in expired")
        if not code:
            raise SignInFailed("no authorization code")
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": self.provider.redirect_url,
                "client_id": self.provider.client_id, "code_verifier": str(pending["verifier"])}
        if self.provider.client_secret:
            form["client_secret"] = self.provider.client_secret
        try:
            async with httpx.AsyncClient(transport=self._transport, timeout=TOKEN_TIMEOUT_S) as http:
                answer = await http.post(self.provider.token_url, data=form, headers={"Accept": "application/json"})
            body = answer.json() if answer.status_code == 200 else {}
        except (httpx.HTTPError, ValueError) as err:
            raise SignInFailed(f"token endpoint: {type(err).__name__}") from None
        id_token = body.get("id_token") if isinstance(body, dict) else None
        if not isinstance(id_token, str):
            raise SignInFailed(f"token endpoint answered {answer.status_code} without an ID token")
        try:
            claims = await self._verifier.verify_token(
                id_token, required=["nonce", self.provider.name_claim, self.provider.id_number_claim])
        except (AuthError, KeysUnavailable) as err:
            raise SignInFailed(f"ID token not accepted: {err}") from None
        if not secrets.compare_digest(str(claims.get("nonce")), str(pending["nonce"])):
            raise SignInFailed("ID token nonce does not match")
        name = str(claims[self.provider.name_claim]).strip()
        id_number = str(claims[self.provider.id_number_claim]).strip().upper()
        if not name or not _ID_NUMBER.match(id_number):
            raise SignInFailed("ID token carries no usable name or identity number")
        return Person(name=name, id_number=id_number), str(pending["then"])
