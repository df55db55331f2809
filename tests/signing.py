"""The test run's own statement keys: the paying system's and the window's, as the embedded default's keys file
holds them. Workers built by the tests trust their public halves (``TRUST``); helpers sign with them."""

from __future__ import annotations

import base64
import secrets
from typing import Any

from pydantic import BaseModel

from domain.enums import Issuer, MatterCode
from runtime.signing import StatementSigner, TrustAnchors, sign_statement

SEEDS: dict[Issuer, bytes] = {issuer: secrets.token_bytes(32) for issuer in Issuer}
TRUST = TrustAnchors.from_seeds(SEEDS)
PAYING_SYSTEM = StatementSigner(Issuer.PAYING_SYSTEM, SEEDS[Issuer.PAYING_SYSTEM])
WINDOW = StatementSigner(Issuer.WINDOW, SEEDS[Issuer.WINDOW])
# The codec server's officer key (runtime/officers.py).
OFFICER = StatementSigner(Issuer.OFFICER, SEEDS[Issuer.OFFICER])
# The families' portal, for a signed-in applicant's additions to their own online case.
PORTAL = StatementSigner(Issuer.PORTAL, SEEDS[Issuer.PORTAL])


def signed_payload(signer: StatementSigner, case_number: str, matter: MatterCode | None, body: BaseModel) -> Any:
    """A signed statement as JSON, as the paying system or the window would send it through a signal."""
    return sign_statement(signer, case_number, matter, body).model_dump(mode="json", exclude_none=True)


def signing_env() -> dict[str, str]:
    """The keys as a process reads them from its environment (the CLI, a worker started by a test)."""
    return {f"SHENHOU_{issuer.value.upper()}_SIGNING_KEY": base64.b64encode(seed).decode()
            for issuer, seed in SEEDS.items()}
