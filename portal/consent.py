"""The notice on sensitive personal information, the applicant's separate consent, and its record.

PIPL art. 29-30: sensitive personal information (identity numbers, bank card numbers, death and medical data)
is processed only with the person's separate consent after a notice of the purpose, the necessity and the
effect on them. The portal shows ``NOTICE`` on its own page before the form; the applicant ticks and
confirms; the consent (notice version, the text's sha256, when) is kept in the session and written to the
register with the case number (``consents``) once the case is started.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from register.sealing import Sealer
from register.tables import ConsentRow

NOTICE_VERSION = "2026-12"
NOTICE_TITLE = "个人信息处理告知及敏感个人信息单独同意"
# Paragraphs of the notice, as shown. {county} and {window} are filled from the county's policy.
NOTICE = (
    "为办理逝者身后“一件事一次办”，{county}将处理您填写和上传的以下个人信息：逝者和申请人的姓名、身份证号码，"
    "死亡医学证明及死亡原因，户籍、社会保险、住房公积金、社会救助等信息，收款银行卡号，手机号码，以及身份证件、"
    "户口簿、银行卡等材料的扫描件。",
    "其中身份证号码、银行卡号、死亡及医疗信息属于敏感个人信息。处理这些信息是为了核实逝者和申请人身份、"
    "推送户口注销和各部门事项、发放丧葬补助等款项，是办理本事项所必需的；不提供将无法网上办理，您可以到{window}办理。",
    "您的信息仅推送给办理所申请事项的部门，以加密方式保存；上传的材料扫描件在保存期限届满后删除，办理记录按政务档案规定保存。"
    "您可以到{window}查询、更正您的个人信息或撤回申请。",
)
CONSENT_LINE = "我已阅读上述告知，同意为办理本事项处理上述敏感个人信息"


def notice_paragraphs(county: str, window: str) -> list[str]:
    return [paragraph.format(county=county, window=window) for paragraph in NOTICE]


def notice_sha256() -> str:
    """The fingerprint of the notice's text (before the county's names are filled in) and the consent line."""
    return hashlib.sha256("\n".join((NOTICE_TITLE, *NOTICE, CONSENT_LINE)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Consent:
    case_number: str
    notice_version: str
    notice_sha256: str
    channel: str
    consented_at: datetime


def record(engine: Engine, sealer: Sealer, case_number: str, id_number: str, consented_at: datetime) -> None:
    """Write the consent with the case (once: a second write of the same consent changes nothing)."""
    applicant = sealer.lookup_hash(id_number)
    with Session(engine) as session:
        existing = session.exec(select(ConsentRow).where(
            ConsentRow.case_number == case_number, ConsentRow.applicant_id_hash == applicant,
            ConsentRow.notice_version == NOTICE_VERSION)).first()
        if existing is not None:
            return
        session.add(ConsentRow(case_number=case_number, applicant_id_hash=applicant, notice_version=NOTICE_VERSION,
                               notice_sha256=notice_sha256(), channel="online", consented_at=consented_at,
                               recorded_at=datetime.now(UTC)))
        session.commit()


def consents_of(engine: Engine, case_number: str) -> list[Consent]:
    with Session(engine) as session:
        rows = session.exec(select(ConsentRow).where(ConsentRow.case_number == case_number)
                            .order_by(col(ConsentRow.consented_at))).all()
    return [Consent(row.case_number, row.notice_version, row.notice_sha256, row.channel, row.consented_at)
            for row in rows]
