"""Every status, outcome and code the system speaks in."""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any

# The register's columns bound them: a department code to 16 characters, a matter code to 64.
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_DEPARTMENT_CODE = re.compile(r"[a-z][a-z0-9_]{0,15}")
_MATTER_CODE = re.compile(r"[a-z][a-z0-9_]{0,15}\.[a-z][a-z0-9_]{0,46}")


class _OpenCodes(StrEnum):
    """Codes a catalogue (domain/catalogue.py) may add to: the members are the default catalogue's codes, as
    named constants; any other well-formed code becomes a member too (made once, then the same object), so
    models, ids, search attributes and the register take a catalogue's new codes as they take these. Whether a
    code is in the county's catalogue is checked where codes come in (intake, the CLI), not here."""

    @classmethod
    def _pattern(cls) -> re.Pattern[str]:
        return _CODE

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if not isinstance(value, str) or not cls._pattern().fullmatch(value):
            return None
        member = cls._value2member_map_.get(value)
        if member is None:
            member = str.__new__(cls, value)
            member._name_ = value.upper()
            member._value_ = value
            member = cls._value2member_map_.setdefault(value, member)
        return member


class Personal(StrEnum):
    """Kinds of personal data a payload may hold; a department reads those its decisions need (the catalogue's
    ``reads``)."""

    NAMES = "names"
    DECEASED_ID = "deceased_id"
    APPLICANT_ID = "applicant_id"
    DECEASED_CARD = "deceased_card"
    PAYEE_CARD = "payee_card"
    PHONE = "phone"


class Channel(StrEnum):
    WINDOW = "window"
    ONLINE = "online"


class DeathCircumstance(StrEnum):
    HOME = "home"
    MEDICAL = "medical"
    CASE_RELATED = "case_related"


class CertificateIssuer(StrEnum):
    """Who signed the 居民死亡医学证明（推断）书."""

    VILLAGE_COMMITTEE = "village_committee"
    COMMUNITY = "community"
    TOWNSHIP_HEALTH_CENTRE = "township_health_centre"
    COMMUNITY_HEALTH_CENTRE = "community_health_centre"
    MEDICAL_INSTITUTION = "medical_institution"
    # The clinic (内设医疗机构) of a 医养结合 care home.
    CARE_HOME_CLINIC = "care_home_clinic"


class AccountKind(StrEnum):
    """What a payee account is: a bank card (Luhn-checked), a passbook (存折/一折通), or none (nothing is paid)."""

    CARD = "card"
    PASSBOOK = "passbook"
    NONE = "none"


class StopFrom(StrEnum):
    """When a terminated benefit stops (DOMAIN.md §5): from the date of death, or from the month after it."""

    DEATH_DATE = "death_date"
    NEXT_MONTH = "next_month"


# A yes/no question of the form that allows "不清楚" (the catalogue's ``unknown_allowed``) is answered so.
UNKNOWN_ANSWER = "unknown"


class MaterialKind(_OpenCodes):
    """The scanned materials an application carries (材料一次提交)."""

    REGISTRATION_FORM = "registration_form"
    DEATH_CERTIFICATE = "death_certificate"
    DECEASED_ID_CARD = "deceased_id_card"
    DECEASED_HUKOU_BOOK = "deceased_household_register"
    DECEASED_BANK_CARD = "deceased_bank_card"
    APPLICANT_ID_CARD = "applicant_id_card"
    APPLICANT_HUKOU_BOOK = "applicant_household_register"
    APPLICANT_BANK_CARD = "applicant_bank_card"
    RELATIONSHIP_PROOF = "relationship_proof"
    SUCCESSION_NOTARISATION = "succession_notarisation"
    PAYEE_AUTHORISATION = "payee_authorisation"
    OTHER = "other"


class Relationship(StrEnum):
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    SIBLING = "sibling"
    GRANDPARENT = "grandparent"
    GRANDCHILD = "grandchild"
    CHILD_IN_LAW = "child_in_law"
    OTHER_FAMILY = "other_family"
    NOT_FAMILY = "not_family"


class PensionStatus(StrEnum):
    NONE = "none"
    ENTERPRISE_RETIREE = "enterprise_retiree"
    ENTERPRISE_EMPLOYEE = "enterprise_employee"
    INSTITUTION_EMPLOYEE = "institution_employee"
    INSTITUTION_RETIREE = "institution_retiree"
    RESIDENT_PENSIONER = "resident_pensioner"


class Department(_OpenCodes):
    @classmethod
    def _pattern(cls) -> re.Pattern[str]:
        return _DEPARTMENT_CODE

    POLICE = "police"
    HRSS = "hrss"
    NHSA = "nhsa"
    MCA = "mca"
    HPF = "hpf"
    DPF = "dpf"
    VA = "va"
    SUPERVISION = "supervision"


class MatterCode(_OpenCodes):
    @classmethod
    def _pattern(cls) -> re.Pattern[str]:
        return _MATTER_CODE

    HUKOU_CANCELLATION = "police.hukou_cancellation"
    ENTERPRISE_RETIREE_DEATH_BENEFIT = "hrss.enterprise_retiree_death_benefit"
    ENTERPRISE_EMPLOYEE_DEATH_BENEFIT = "hrss.enterprise_employee_death_benefit"
    INSTITUTION_EMPLOYEE_DEATH_TERMINATION = "hrss.institution_employee_death_termination"
    INSTITUTION_RETIREE_DEATH_TERMINATION = "hrss.institution_retiree_death_termination"
    RESIDENT_PENSION_FUNERAL_SUBSIDY = "hrss.resident_pension_funeral_subsidy"
    EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT = "nhsa.employee_medical_account_settlement"
    SOCIAL_ASSISTANCE_TERMINATION = "mca.social_assistance_termination"
    PROVIDENT_FUND_DEATH_WITHDRAWAL = "hpf.death_withdrawal"
    DISABILITY_SUBSIDY_TERMINATION = "dpf.disability_subsidy_termination"
    PREFERENTIAL_BENEFIT_TERMINATION = "va.preferential_benefit_termination"
    RESIDENT_MEDICAL_INSURANCE_TERMINATION = "nhsa.resident_medical_insurance_termination"


class CaseState(StrEnum):
    RECEIVED = "受理"
    HUKOU_CANCELLING = "户口注销中"
    # 户口注销 is done; the parallel matters wait for the funeral home's certificate.
    AWAITING_CREMATION = "待火化证明"
    IN_PROGRESS = "联办中"
    COMPLETED = "办结"
    WITHDRAWN = "已撤回"
    # The police did not cancel the household registration: nothing else can be pushed.
    HUKOU_REJECTED = "户口注销未通过"
    REFUSED = "不予受理"


class MatterState(StrEnum):
    PENDING_PUSH = "待推送"
    UNDER_REVIEW = "待审核"
    AWAITING_MATERIALS = "待补正"
    APPROVED = "已通过"
    # The payment instruction is with the paying system; it has not confirmed the transfer yet.
    PAYING = "发放中"
    # The payment was refused (e.g. a closed account): waits for a corrected account, by hand.
    PAYMENT_FAILED = "发放失败"
    PAID = "已发放"
    # Approved with money to pay, but the applicant is not among those the catalogue lets be paid without proof:
    # the payment waits until the window records the 亲属关系证明 (or notarised succession document).
    AWAITING_PROOF = "待核验亲属关系"
    # A termination the department found nothing to stop for: an outcome of its own, not a rejection.
    NO_BENEFIT = "无该待遇"
    REJECTED = "不予办理"
    WITHDRAWN = "已撤回"
    NOT_PUSHED = "未推送"
    # The case's own summary of a matter it has started: the matter's workflow holds the details.
    IN_PROGRESS = "办理中"


class DecisionKind(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REQUEST_MATERIALS = "request_materials"
    MATERIALS_SUPPLEMENTED = "materials_supplemented"
    EXTEND_DEADLINE = "extend_deadline"
    WITHDRAW = "withdraw"
    PAYEE_CORRECTED = "payee_corrected"
    PAYEE_PROVEN = "payee_proven"
    PAYMENT_CONFIRMED = "payment_confirmed"
    PAYMENT_FAILED = "payment_failed"


class EscalationStep(StrEnum):
    WARNING = "warning"
    OVERDUE = "overdue"
    REMINDER = "reminder"
    SUPERVISION = "supervision"


class NotificationKind(StrEnum):
    CASE_RECEIVED = "case_received"
    HUKOU_CANCELLED = "hukou_cancelled"
    # The cremation certificate arrived after 户口注销: the other matters were pushed then.
    MATTERS_PUSHED = "matters_pushed"
    # Matters added to the case at the window (or the portal).
    MATTERS_ADDED = "matters_added"
    MATTER_APPROVED = "matter_approved"
    MATTER_REJECTED = "matter_rejected"
    MATERIALS_REQUESTED = "materials_requested"
    MONEY_SENT = "money_sent"
    MONEY_TO_RETURN = "money_to_return"
    PAYMENT_UNCONFIRMED = "payment_unconfirmed"
    PAYMENT_FAILED = "payment_failed"
    HUKOU_REJECTED = "hukou_rejected"
    DEADLINE_MOVED = "deadline_moved"
    MATTER_WITHDRAWN = "matter_withdrawn"
    CASE_COMPLETED = "case_completed"
    CASE_WITHDRAWN = "case_withdrawn"
    CREMATION_OVERDUE = "cremation_overdue"
    DEADLINE_WARNING = "deadline_warning"
    DEADLINE_OVERDUE = "deadline_overdue"
    DEADLINE_REMINDER = "deadline_reminder"
    SUPERVISION = "supervision"
    MATERIALS_REMINDER = "materials_reminder"
    # The funeral home opened the case: the family is invited, once, to apply (register/contacts.py).
    INVITATION = "invitation"
    # An entitlement the family has not claimed is about to lapse (notify/lapses.py).
    CLAIM_LAPSING = "claim_lapsing"


class Recipient(StrEnum):
    FAMILY = "family"
    DEPARTMENT = "department"
    DEPARTMENT_HEAD = "department_head"
    SUPERVISOR = "supervisor"
    FUNERAL_HOME = "funeral_home"


class ErrorType(StrEnum):
    """Types of business failures: raised non-retryable by activities, and by an update that refuses a decision."""

    PAYMENT_REFUSED = "PaymentRefused"
    DEPARTMENT_UNAVAILABLE = "DepartmentUnavailable"
    INVALID_DECISION = "InvalidDecision"


class Issuer(StrEnum):
    """Who signs a statement a workflow acts on (runtime/signing.py): the key decides, never a typed name."""

    PAYING_SYSTEM = "paying_system"
    WINDOW = "window"
    # The codec server, for an officer whose identity provider's token it verified (domain/officers.py).
    OFFICER = "officer"
    # The families' portal, for what a signed-in applicant adds to their own online case (domain/decisions.py,
    # ``may_sign``): it never holds the window's key.
    PORTAL = "portal"


class CasePhase(StrEnum):
    """Where a case's run stands, so a run that continues as new picks up at the same point."""

    AWAITING_APPLICATION = "awaiting_application"
    HUKOU = "hukou"
    AWAITING_CREMATION = "awaiting_cremation"
    PARALLEL = "parallel"
