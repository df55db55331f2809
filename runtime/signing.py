"""Ed25519 signatures on the statements workflows act on: the paying system's payment reports and the
window's payee changes and withdrawals.

The issuer holds the private key (the bank's payment interface; the window's CLI). The worker holds only the
public keys, its *trust anchors*; a payload that carries a signature gives its readers nothing they could sign
anything else with. A signature is written ``ed25519:<key id>:<base64>`` so several keys of one issuer can be
trusted at once while a key is rotated.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass, field
from typing import TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel

from domain.decisions import signed_digest
from domain.enums import Issuer, MatterCode

M = TypeVar("M", bound=BaseModel)

PREFIX = "ed25519"


class SigningKeyError(ValueError):
    """A signing or public key is malformed; the message names which, never the key."""


def _raw(value: str, what: str) -> bytes:
    try:
        raw = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as err:
        raise SigningKeyError(f"{what} is not valid base64") from err
    if len(raw) != 32:
        raise SigningKeyError(f"{what} must be 32 bytes (an Ed25519 key), got {len(raw)}")
    return raw


def public_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:12]


def public_key_text(seed: bytes) -> str:
    """The public half of a private key (its 32-byte seed), base64: what a worker is configured with."""
    return base64.b64encode(public_bytes(Ed25519PrivateKey.from_private_bytes(seed).public_key())).decode()


@dataclass(frozen=True)
class StatementSigner:
    """Signs as one issuer (the CLI's stand-in paying system, the window)."""

    issuer: Issuer
    seed: bytes = field(repr=False)

    @classmethod
    def from_text(cls, issuer: Issuer, text: str) -> StatementSigner:
        return cls(issuer, _raw(text, f"the {issuer.value} signing key"))

    def sign_digest(self, digest: str) -> str:
        """The signature over the statement of ``digest`` (domain/statements.py)."""
        private = Ed25519PrivateKey.from_private_bytes(self.seed)
        signature = private.sign(_message(digest))
        kid = key_id(public_bytes(private.public_key()))
        return f"{PREFIX}:{kid}:{base64.b64encode(signature).decode()}"


@dataclass(frozen=True)
class TrustAnchors:
    """The public keys a worker believes, per issuer."""

    keys: dict[Issuer, dict[str, Ed25519PublicKey]] = field(default_factory=dict)

    @classmethod
    def from_public_texts(cls, texts: dict[Issuer, list[str]]) -> TrustAnchors:
        keys: dict[Issuer, dict[str, Ed25519PublicKey]] = {}
        for issuer, values in texts.items():
            for index, text in enumerate(values, start=1):
                raw = _raw(text, f"{issuer.value} public key #{index}")
                keys.setdefault(issuer, {})[key_id(raw)] = Ed25519PublicKey.from_public_bytes(raw)
        return cls(keys)

    @classmethod
    def from_seeds(cls, seeds: dict[Issuer, bytes]) -> TrustAnchors:
        return cls.from_public_texts({issuer: [public_key_text(seed)] for issuer, seed in seeds.items()})

    def missing(self) -> list[Issuer]:
        """Issuers whose word the worker must be able to check (officers only where they must be verified)."""
        return [issuer for issuer in Issuer if issuer != Issuer.OFFICER and not self.keys.get(issuer)]

    def verify(self, issuer: Issuer, digest: str, signature: str | None) -> str | None:
        """None when ``signature`` is ``issuer``'s over the statement of ``digest``; else the Chinese reason."""
        who = {Issuer.PAYING_SYSTEM: "支付系统", Issuer.WINDOW: "受理窗口", Issuer.OFFICER: "身份核验",
               Issuer.PORTAL: "网上申请平台"}[issuer]
        if not signature:
            return f"未附{who}签名，不予采信"
        prefix, _, rest = signature.partition(":")
        kid, _, encoded = rest.partition(":")
        public = self.keys.get(issuer, {}).get(kid)
        if prefix != PREFIX or public is None:
            return f"签名不是{who}的有效密钥所签，不予采信"
        try:
            public.verify(base64.b64decode(encoded, validate=True), _message(digest))
        except (InvalidSignature, binascii.Error, ValueError):
            return f"{who}签名与内容不符，不予采信"
        return None


def _message(digest: str) -> bytes:
    return b"shenhou-statement-v1:" + digest.encode()


def sign_statement(signer: StatementSigner, case_number: str, matter: MatterCode | None, body: M) -> M:
    """``body`` with the signer's signature over it, for this case (and, for a payment report, this matter)."""
    return body.model_copy(update={"signature": signer.sign_digest(signed_digest(body, case_number, matter))})


def main() -> None:
    """Print a new Ed25519 key pair: the seed for the issuer, the public key for the workers."""
    import secrets

    seed = secrets.token_bytes(32)
    print(f"signing key (keep with the issuer only): {base64.b64encode(seed).decode()}")
    print(f"public key (for the workers):            {public_key_text(seed)}")


if __name__ == "__main__":
    main()
