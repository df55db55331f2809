"""Bearer-token authentication for the codec server: the Web UI forwards the signed-in user's OIDC access
token (``TEMPORAL_CODEC_PASS_ACCESS_TOKEN=true``), and the codec server decrypts nothing for a request
whose token the county's identity provider did not sign for this audience.

Tokens are JWTs signed with RS256 or ES256 and verified against the provider's JWKS (a URL, cached for
``JWKS_LIFESPAN_S`` and re-read at most every ``JWKS_COOLDOWN_S`` when a token names an unknown key id, so
the provider's key rotation is picked up without a restart; or a file, re-read when it changes). ``exp``,
``iss`` and ``aud`` are required and checked.

Library: PyJWT (2.x, with ``cryptography``): the JWT library most Python services use, maintained, with a
JWKS client that caches the key set and rate-limits refreshes; it binds each key's algorithm to the key,
so a token cannot pick HS256 with a public key as its secret.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import jwt
from jwt import PyJWK, PyJWKClient, PyJWKSet

from runtime.settings import Settings

ALGORITHMS = ("RS256", "ES256")
REQUIRED_CLAIMS = ["exp", "iss", "aud"]
JWKS_LIFESPAN_S = 300.0
JWKS_COOLDOWN_S = 30.0
JWKS_TIMEOUT_S = 5.0
# Clock skew allowed between the identity provider and this server.
LEEWAY_S = 30.0
REALM = "shenhou-codec"


class KeysUnavailable(Exception):
    """The identity provider's keys could not be fetched: not the caller's fault (503, not 401)."""


class AuthError(Exception):
    """A request without a token the server accepts (401). ``description`` goes to the client: it never
    quotes the token."""

    def __init__(self, description: str, *, missing: bool = False) -> None:
        super().__init__(description)
        self.description = description
        self.missing = missing

    def www_authenticate(self) -> str:
        if self.missing:
            # RFC 6750 §3.1: no error code when the request carried no credentials at all.
            return f'Bearer realm="{REALM}"'
        return f'Bearer realm="{REALM}", error="invalid_token", error_description="{self.description}"'


class KeySource(Protocol):
    async def signing_key(self, kid: str) -> PyJWK: ...


class JwksUrl:
    """The provider's JWKS endpoint, through PyJWT's caching client (fetches run off the event loop)."""

    def __init__(
        self,
        url: str,
        *,
        lifespan_s: float = JWKS_LIFESPAN_S,
        cooldown_s: float = JWKS_COOLDOWN_S,
        timeout_s: float = JWKS_TIMEOUT_S,
    ) -> None:
        self._client = PyJWKClient(
            url, cache_jwk_set=True, lifespan=lifespan_s, cooldown_duration=cooldown_s, timeout=timeout_s
        )

    async def signing_key(self, kid: str) -> PyJWK:
        try:
            key = await asyncio.to_thread(self._find, kid)
        except (jwt.PyJWKClientError, jwt.PyJWKSetError, jwt.PyJWKError) as err:
            raise KeysUnavailable(str(err)) from None
        if key is None:
            raise AuthError("unknown signing key")
        return key

    def _find(self, kid: str) -> PyJWK | None:
        try:
            return self._client.get_signing_key(kid)
        except jwt.PyJWKClientConnectionError:
            raise
        except jwt.PyJWKClientError:
            # Either the kid is unknown (the caller's problem) or the key set is unusable (the provider's):
            # asking for the (cached) key set again tells which.
            self._client.get_signing_keys()
            return None


class JwksFile:
    """A JWKS document on disk (an exported copy of the provider's keys), re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._loaded_mtime: int | None = None
        self._keys: dict[str, PyJWK] = {}
        self._load()

    def _load(self) -> None:
        mtime = self._path.stat().st_mtime_ns
        if mtime == self._loaded_mtime:
            return
        document = json.loads(self._path.read_text())
        key_set = PyJWKSet.from_dict(document)
        self._keys = {
            key.key_id: key for key in key_set.keys if key.key_id and key.public_key_use in ("sig", None)
        }
        self._loaded_mtime = mtime

    async def signing_key(self, kid: str) -> PyJWK:
        try:
            self._load()
        except (OSError, ValueError, jwt.PyJWKError) as err:
            raise KeysUnavailable(f"cannot read {self._path}: {err}") from None
        key = self._keys.get(kid)
        if key is None:
            raise AuthError("unknown signing key")
        return key


class TokenVerifier:
    def __init__(self, keys: KeySource, *, issuer: str, audience: str, leeway_s: float = LEEWAY_S) -> None:
        if not issuer or not audience:
            raise ValueError("token verification needs both an issuer and an audience")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s

    async def verify(self, authorization: str | None) -> dict[str, Any]:
        """The token's claims, or ``AuthError`` (401) / ``KeysUnavailable`` (503)."""
        return await self.verify_token(_bearer_token(authorization))

    async def verify_token(self, token: str, *, required: Sequence[str] = ()) -> dict[str, Any]:
        """The claims of a JWT given as it is (the portal's OIDC ID token), with ``required`` claims besides
        ``exp``, ``iss`` and ``aud``; ``AuthError`` / ``KeysUnavailable`` as ``verify``."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise AuthError("malformed token") from None
        if header.get("alg") not in ALGORITHMS:
            raise AuthError("token algorithm not accepted")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token names no signing key")
        key = await self._keys.signing_key(kid)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                audience=self._audience,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": [*REQUIRED_CLAIMS, *required]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.InvalidIssuerError:
            raise AuthError("wrong issuer") from None
        except jwt.InvalidAudienceError:
            raise AuthError("wrong audience") from None
        except jwt.MissingRequiredClaimError as err:
            raise AuthError(f"token lacks the {err.claim} claim") from None
        except jwt.InvalidSignatureError:
            raise AuthError("bad signature") from None
        except jwt.InvalidTokenError:
            raise AuthError("token not accepted") from None
        return claims


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise AuthError("no bearer token", missing=True)
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthError("expected an Authorization: Bearer token")
    return token.strip()


def key_source(url: str, path: Path | None, what: str) -> KeySource:
    """The provider's keys from a JWKS URL or a JWKS file (exactly one of them); ``ValueError`` naming
    ``what`` (the setting) when it cannot be used."""
    if url and path is not None:
        raise ValueError(f"set {what}_JWKS_URL or {what}_JWKS_FILE, not both")
    if url:
        try:
            return JwksUrl(url)
        except jwt.PyJWKClientError as err:
            raise ValueError(f"{what}_JWKS_URL: {err}") from None
    if path is None:
        raise ValueError(f"{what}_JWKS_URL is not set")
    try:
        return JwksFile(path)
    except (OSError, ValueError, jwt.PyJWKError) as err:
        raise ValueError(f"{what}_JWKS_FILE {path}: {err}") from None


def verifier_from_settings(settings: Settings) -> TokenVerifier | None:
    """None when no JWKS is configured (the embedded default on localhost); an error for half a setup."""
    url = settings.codec_auth_jwks_url
    path = settings.codec_auth_jwks_file
    if not url and path is None:
        if settings.codec_auth_issuer or settings.codec_auth_audience:
            raise ValueError(
                "SHENHOU_CODEC_AUTH_ISSUER/AUDIENCE are set but neither SHENHOU_CODEC_AUTH_JWKS_URL nor "
                "SHENHOU_CODEC_AUTH_JWKS_FILE is"
            )
        return None
    if not settings.codec_auth_issuer or not settings.codec_auth_audience:
        raise ValueError(
            "codec server authentication needs SHENHOU_CODEC_AUTH_ISSUER and SHENHOU_CODEC_AUTH_AUDIENCE"
        )
    keys = key_source(url, path, "SHENHOU_CODEC_AUTH")
    return TokenVerifier(keys, issuer=settings.codec_auth_issuer, audience=settings.codec_auth_audience)
