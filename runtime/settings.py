"""Settings from the environment and `.env`, read once per process."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHENHOU_", env_file=".env", extra="ignore")

    temporal_address: str = "localhost:7233"
    # TLS to the Temporal frontend (runtime/temporal.py: tls_config). A CA file or a server name turns TLS
    # on; a client certificate and key (PEM, both or neither) are for clusters that require mTLS.
    temporal_tls_ca: Path | None = None
    temporal_tls_cert: Path | None = None
    temporal_tls_key: Path | None = None
    # The name the frontend's certificate is checked against (and sent as SNI) when it differs from the
    # host in temporal_address.
    temporal_tls_server_name: str = ""
    namespace: str = "default"
    task_queue: str = "shenhou"
    data_dir: Path = Path("data")
    # The materials store (scans by SHA-256); empty means data_dir/materials. The codec server of the compose
    # setup reads the portal's, mounted read-only.
    materials_dir: Path | None = None
    # Empty means the SQLite register inside data_dir.
    database_url: str = ""
    # A county's policy override (YAML or JSON); empty means the built-in defaults.
    policy_file: Path | None = None
    # A county's catalogue of departments and matters (docs/catalogue.md); empty means the packaged
    # default, domain/catalogue.yaml.
    catalogue_file: Path | None = None
    # The heirs' letter (domain/heirs_letter.py): a county's guidance file of what remains outside the case
    # (empty: domain/heirs_guidance.yaml), and the CJK font its PDF embeds (TTF, OTF or a TTC collection).
    heirs_guidance_file: Path | None = None
    letter_font_file: Path = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
    # A county-maintained holiday override (YAML); empty means data_dir/holidays.yaml when present.
    holiday_file: Path | None = None
    # Key material; empty means the keys file in data_dir, created on first run.
    case_id_key: str = ""
    codec_keys: str = ""
    codec_active_key_id: str = ""
    # base64 32 bytes for the families' query codes (domain/query_code.py); empty: the keys file.
    query_code_key: str = ""
    # Statement signing (runtime/signing.py), base64. Seeds: what an issuer signs with (the CLI standing in
    # for the paying system; the window's CLI); empty: the keys file. Public keys (comma-separated, several
    # while a key is rotated): what the worker believes; empty: the public halves of the seeds it has.
    paying_system_signing_key: str = ""
    window_signing_key: str = ""
    paying_system_public_keys: str = ""
    window_public_keys: str = ""
    # The codec server signs officer statements with this key; workers trust its public half.
    officer_signing_key: str = ""
    officer_public_keys: str = ""
    # The families' portal signs what a signed-in applicant adds to their own online case; workers trust its
    # public half for those matters only (domain/decisions.py, ``may_sign``).
    portal_signing_key: str = ""
    portal_public_keys: str = ""
    # Decisions count only with a verified officer's statement (production). False: the embedded default,
    # where decisions without one are taken and marked unverified.
    require_verified_officers: bool = False
    # How the identity provider's claims name an officer and their roles (runtime/officers.py).
    officer_name_claim: str = "name"
    officer_roles_claim: str = "groups"
    # "claim value:department code,..." (e.g. "ybj-staff:nhsa,gjj-staff:hpf"); a value equal to a
    # department code counts as that department even when not listed.
    officer_department_map: str = ""
    officer_supervisor_roles: str = "supervisor"
    # Where the CLI exchanges an officer's token for a statement (the codec server; default: the local one).
    officer_statement_url: str = ""
    # Where a matter's page links each material's scan when the policy names no scan_url (compose:
    # https://<PUBLIC_HOST>/codec/materials/); empty: the embedded default's own codec server, or no links.
    scan_url: str = ""
    # Roles that may terminate, cancel, reset, start and batch-operate through the Web UI (the proxy's rule).
    operator_roles: str = "shenhou-operator"
    codec_enabled: bool = True
    # The embedded default (no sign-in) masks personal data in what the Web UI decodes; true shows it all
    # (a single-user machine only; ignored when the codec server authenticates). runtime/read_scope.py.
    codec_show_personal_data: bool = False
    codec_server_port: int = 8081
    ui_port: int = 8233
    # Codec server authentication (runtime/codec_auth.py): with a JWKS (URL or file), /encode and /decode
    # require a bearer token from that identity provider for this issuer and audience. Empty: no
    # authentication, for the embedded default on localhost only.
    codec_auth_jwks_url: str = ""
    codec_auth_jwks_file: Path | None = None
    codec_auth_issuer: str = ""
    codec_auth_audience: str = ""
    # The families' portal (portal/): where it listens, the upload limits, and its session cookie.
    portal_host: str = "127.0.0.1"
    portal_port: int = 8090
    # One scanned file, after which it is refused; and the whole request body, counted as it arrives
    # (chunked or not), after which the request is cut off with 413.
    portal_max_upload_bytes: int = Field(default=10 * 1024 * 1024, gt=0)
    portal_max_request_bytes: int = Field(default=64 * 1024 * 1024, gt=0)
    # Whether the session cookie is sent over HTTPS only (true behind the production proxy).
    portal_cookie_secure: bool = False
    # Sessions live on the server: they end after this many idle minutes, and at the latest this many
    # minutes after they began (sign-in starts a new one); logout ends them at once.
    portal_session_minutes: int = Field(default=30, gt=0)
    portal_session_absolute_minutes: int = Field(default=120, gt=0)
    # Uploads of a form not yet accepted are deleted after this many minutes (accepted ones at once).
    portal_staging_minutes: int = Field(default=120, gt=0)
    # Requests per client address per hour: application forms sent, and case-number/query-code attempts.
    portal_apply_per_hour: int = Field(default=30, gt=0)
    portal_progress_per_hour: int = Field(default=60, gt=0)
    # The reverse proxies whose X-Forwarded-For the portal believes (comma-separated addresses or
    # networks, as uvicorn's forwarded_allow_ips). Empty: none; the client is the connecting address.
    portal_forwarded_allow_ips: str = ""
    # Sign-in for online applicants (portal/signin.py): the province's unified identity provider (OIDC,
    # authorization code with PKCE). Empty issuer: the local stand-in provider (runtime/stand_in_idp.py),
    # which `scripts/run` starts on stand_in_idp_port; never for production.
    portal_oidc_issuer: str = ""
    portal_oidc_authorization_url: str = ""
    portal_oidc_token_url: str = ""
    portal_oidc_jwks_url: str = ""
    portal_oidc_client_id: str = "shenhou-portal"
    portal_oidc_client_secret: str = ""
    # Where the provider sends the browser back; empty: portal_public_url (or the local address) + /signin/callback.
    portal_oidc_redirect_url: str = ""
    portal_oidc_scopes: str = "openid profile"
    # The ID token's claims that carry the verified name and 身份证号码.
    portal_oidc_name_claim: str = "name"
    portal_oidc_id_number_claim: str = "id_number"
    stand_in_idp_port: int = 8092
    # Scanned materials (portal uploads and the window's) are deleted this many days after they were stored.
    scan_retention_days: int = Field(default=180, gt=0)
    # The portal's address as families reach it, told in the 受理 SMS; empty: the SMS names no address.
    portal_public_url: str = ""
    # The notification dispatcher (notify/): an HTTP SMS gateway, or (empty URL) the stand-in file.
    sms_gateway_url: str = ""
    sms_gateway_token: str = ""
    # What the gateway presents when it posts families' replies (退订) to the portal: a secret of its own, so the
    # public portal never holds the token that sends SMS as the county. Empty: the portal takes no replies.
    sms_reply_token: str = ""
    # The stand-in for the gateway: one JSON line per delivered message; empty: data_dir/sms-outbox.jsonl.
    sms_outbox_file: Path | None = None
    dispatcher_poll_seconds: float = 2.0
    dispatcher_batch_size: int = 50
    # A claimed message is someone else's to send until its lease ends (a crashed dispatcher's, after it).
    dispatcher_lease_seconds: float = 120.0
    dispatcher_max_attempts: int = 10
    dispatcher_backoff_seconds: float = 5.0
    dispatcher_backoff_max_seconds: float = 3600.0
    # 好差评: the families' ratings go to the province's system through the dispatcher (notify/ratings.py):
    # POSTed as JSON to this URL when set (with the bearer token), else appended as JSON lines to a file in
    # the directory (empty: data_dir/haochaping) for the province's collector to pick up.
    haochaping_url: str = ""
    haochaping_token: str = ""
    haochaping_dir: Path | None = None
    # Workflows the worker keeps in memory between tasks; an evicted one is replayed from its history at
    # its next task. It bounds the worker's memory however many cases are open: measured with 400 cases
    # parked (2,000 workflows), 100 → 189 MiB, 1000 (the SDK's default) → 498 MiB; 250 holds the ~150
    # workflows of 30 cases in flight (docs/operations.md, Benchmarks).
    worker_max_cached_workflows: int = Field(default=250, ge=0)
    log_level: str = "INFO"
    log_json: bool | None = Field(default=None, description="None: JSON unless stdout is a TTY")

    @property
    def holiday_path(self) -> Path | None:
        """The county's holiday override: the configured file (it must exist), else data_dir/holidays.yaml
        when present."""
        if self.holiday_file is not None:
            return self.holiday_file
        default = self.data_dir / "holidays.yaml"
        return default if default.is_file() else None

    @property
    def sms_outbox_path(self) -> Path:
        return self.sms_outbox_file or self.data_dir / "sms-outbox.jsonl"

    @property
    def haochaping_path(self) -> Path:
        return self.haochaping_dir or self.data_dir / "haochaping"

    @property
    def register_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'register.db').resolve()}"


def invalid_setting_names(err: ValidationError) -> list[str]:
    """The environment variables ``err`` is about (never their values, which may be keys)."""
    return sorted({f"SHENHOU_{str(e['loc'][0]).upper()}" for e in err.errors() if e.get("loc")})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
