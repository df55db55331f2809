"""The portal's OIDC sign-in (portal/signin.py) against a token endpoint that answers what each test needs: the
ID token is checked by the project's verifier (runtime/codec_auth.py) and its nonce by the portal."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from portal.__main__ import main as portal_main
from portal.signin import Person, Provider, SignIn, SignInFailed, SignInSettingsError
from runtime.codec_auth import JwksFile, TokenVerifier
from runtime.settings import Settings, get_settings
from tests.portal.conftest import new_id_number
from tests.runtime.test_codec_auth import ISSUER, JWKS, token
from tests.starter.report_cli import _restore_logging

__all__ = ["_restore_logging"]  # the portal's main() configures logging: the session gets its own back

CLIENT = "shenhou-portal"
PERSON = Person(name="赵敏", id_number=new_id_number())


def provider() -> Provider:
    return Provider(issuer=ISSUER, authorization_url=f"{ISSUER}/auth", token_url=f"{ISSUER}/token",
                    jwks_url=f"{ISSUER}/certs", client_id=CLIENT, client_secret="s3cret",
                    redirect_url="https://portal.example/signin/callback", scopes="openid profile",
                    name_claim="name", id_number_claim="id_number", stand_in=False)


def sign_in_with(tmp_path: Path, id_token: Any, seen: list[dict[str, list[str]]] | None = None) -> SignIn:
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(JWKS))

    def answer(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(parse_qs(request.content.decode()))
        return httpx.Response(200, json={"id_token": id_token(parse_qs(request.content.decode()))})

    return SignIn(provider(), TokenVerifier(JwksFile(jwks), issuer=ISSUER, audience=CLIENT),
                  transport=httpx.MockTransport(answer))


def started(signin: SignIn, session: dict[str, Any]) -> tuple[str, str]:
    """The state and nonce of a sign-in begun in ``session``."""
    query = parse_qs(urlsplit(signin.start(session, 0.0, "/apply")).query)
    assert query["code_challenge_method"] == ["S256"] and query["client_id"] == [CLIENT]
    return query["state"][0], query["nonce"][0]


async def test_a_verified_token_with_our_nonce_signs_the_person_in(tmp_path: Path) -> None:
    session: dict[str, Any] = {}
    nonces: list[str] = []
    seen: list[dict[str, list[str]]] = []
    signin = sign_in_with(tmp_path, lambda _: token(aud=CLIENT, nonce=nonces[0], name=PERSON.name,
                                                    id_number=PERSON.id_number), seen)
    state, nonce = started(signin, session)
    nonces.append(nonce)
    assert await signin.finish(session, 1.0, state, "code-1") == (PERSON, "/apply")
    # The code went to the token endpoint with the PKCE verifier and the client's secret.
    assert seen[0]["code"] == ["code-1"] and seen[0]["client_secret"] == ["s3cret"] and seen[0]["code_verifier"]
    assert "oidc" not in session  # a pending sign-in is used once


@pytest.mark.parametrize(("case", "claims"), [
    ("another nonce", {"aud": CLIENT, "nonce": "replayed"}),
    ("another audience", {"aud": "another-client"}),
    ("no identity number", {"aud": CLIENT, "drop": ("id_number",)}),
    ("a malformed identity number", {"aud": CLIENT, "id_number": "12345"}),
    ("expired", {"aud": CLIENT, "exp": 1}),
])
async def test_a_token_that_is_not_for_this_sign_in_is_refused(
    tmp_path: Path, case: str, claims: dict[str, Any],
) -> None:
    session: dict[str, Any] = {}
    nonces: list[str] = []

    def id_token(_: Any) -> str:
        values: dict[str, Any] = {"nonce": nonces[0], "name": PERSON.name, "id_number": PERSON.id_number, **claims}
        drop = values.pop("drop", ())
        return token(drop=drop, **values)

    signin = sign_in_with(tmp_path, id_token)
    state, nonce = started(signin, session)
    nonces.append(nonce)
    with pytest.raises(SignInFailed):
        await signin.finish(session, 1.0, state, "code-1")


async def test_a_late_or_foreign_callback_is_refused(tmp_path: Path) -> None:
    signin = sign_in_with(tmp_path, lambda _: "unused")
    session: dict[str, Any] = {}
    state, _ = started(signin, session)
    with pytest.raises(SignInFailed, match="expired"):
        await signin.finish(session, 3600.0, state, "code-1")
    started(signin, session)
    with pytest.raises(SignInFailed, match="state"):
        await signin.finish(session, 1.0, "someone-elses-state", "code-1")


def test_a_half_configured_provider_stops_the_portal_with_code_3(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SignInSettingsError, match="SHENHOU_PORTAL_OIDC_TOKEN_URL"):
        Provider.from_settings(Settings(portal_oidc_issuer=ISSUER, portal_oidc_authorization_url="https://x/a",
                                        portal_oidc_jwks_url="https://x/j"))
    monkeypatch.setenv("SHENHOU_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SHENHOU_PORTAL_OIDC_ISSUER", ISSUER)
    monkeypatch.setenv("SHENHOU_TEMPORAL_ADDRESS", "127.0.0.1:1")
    get_settings.cache_clear()
    try:
        assert portal_main() == 3
    finally:
        get_settings.cache_clear()
    assert "统一身份认证配置有误" in capsys.readouterr().err
