"""Typed inputs and outputs of every workflow, activity, signal, query and update.

No model here reads a clock or a random source: workflows build them.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError

from domain.enums import (
    AccountKind,
    CasePhase,
    CaseState,
    CertificateIssuer,
    Channel,
    DeathCircumstance,
    DecisionKind,
    Department,
    EscalationStep,
    Issuer,
    MaterialKind,
    MatterCode,
    MatterState,
    NotificationKind,
    PensionStatus,
    Recipient,
    Relationship,
)
from domain.policy import LadderPolicy, MatterPolicy, Policy

_AMOUNT_TEXT = re.compile(r"\A-?[0-9]{1,12}(\.[0-9]{1,2})?\Z")


def _visible_text(allow_newlines: bool) -> Any:
    """Refuse control, format (bidi, zero-width) and surrogate characters: they hide what was typed from
    the people who read the record, and PostgreSQL cannot store NUL."""

    def check(value: str) -> str:
        for ch in value:
            if allow_newlines and ch in "\n\t":
                continue
            if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
                raise PydanticCustomError("text_invisible", "text contains control or invisible characters")
        return value

    return AfterValidator(check)


def _amount_text(value: Any) -> Any:
    # Only plain ASCII digits in yuan: full-width digits or "1,234" are a typing slip, not an amount.
    if isinstance(value, str) and not _AMOUNT_TEXT.match(value.strip()):
        raise PydanticCustomError("amount_format", "amount must look like 1234.50")
    return value


ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), _visible_text(False)
]
LongText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), _visible_text(True)]
Reason = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), _visible_text(True)
]
Yuan = Annotated[Decimal, Field(max_digits=14, decimal_places=2)]
# What an officer types: the same, but only as plain ASCII digits.
AmountInput = Annotated[Decimal, BeforeValidator(_amount_text), Field(max_digits=14, decimal_places=2)]


# A statement's signature: ``ed25519:<key id>:<base64>`` (runtime/signing.py).
Signature = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), _visible_text(False)]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


# --- the application ---------------------------------------------------------------------------


class BankAccount(_Model):
    bank_name: str
    account_name: str
    # A card's number, or a passbook's (存折/一折通) account number (``kind``).
    card_number: str
    # The money goes to the applicant; an account in another name needs the clerk's recorded reason.
    authorised_reason: str | None = None
    kind: AccountKind = AccountKind.CARD

    @classmethod
    def none(cls) -> BankAccount:
        """No account: the family chose only matters that pay nothing (intake asks for none)."""
        return cls(bank_name="", account_name="", card_number="", kind=AccountKind.NONE)

    @property
    def given(self) -> bool:
        return self.kind is not AccountKind.NONE


class Deceased(_Model):
    name: str
    id_number: str
    household_county: str
    insured_area: str
    death_date: date
    death_circumstance: DeathCircumstance
    work_injury: bool = False
    cremation_county: str
    # Empty when the family chose only matters that pay nothing.
    bank_card: str = ""
    # The county's town of the household registration (the catalogue's places), and its 派出所 (户籍地派出所),
    # which the police matter names; None when the form names no town.
    household_town: str | None = None
    police_station: str | None = None


class DeathCertificate(_Model):
    number: str
    issuer_type: CertificateIssuer
    issuer_name: str


class Applicant(_Model):
    name: str
    id_number: str
    relationship: Relationship
    phone: str
    # ``BankAccount.none()`` when nothing the family chose pays.
    bank_account: BankAccount = Field(default_factory=lambda: BankAccount.none())


# A benefit the deceased may have drawn: yes, no, or "unknown" (不清楚), which runs its termination too.
Drew = bool | Literal["unknown"]


class Situations(_Model):
    pension_status: PensionStatus = PensionStatus.NONE
    employee_medical_insurance: bool = False
    social_assistance: Drew = False
    housing_provident_fund: bool = False
    disability_subsidy: Drew = False
    preferential_care: Drew = False
    # Answers to questions a county's catalogue adds (domain/catalogue.py), by question code. Read and written
    # beside the named ones, as the form has them: the default catalogue's cases serialise as they always did.
    answers: dict[str, bool | str] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _collect_answers(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        named = set(cls.model_fields)
        extra = {key: value for key, value in data.items() if key not in named}
        if not extra:
            return data
        kept = {key: value for key, value in data.items() if key in named}
        return {**kept, "answers": {**(kept.get("answers") or {}), **extra}}

    @model_serializer(mode="wrap")
    def _flat_answers(self, handler: SerializerFunctionWrapHandler) -> Any:
        data = handler(self)
        if isinstance(data, dict):
            answers = data.pop("answers", None) or {}
            data.update(answers)
        return data

    def answer_map(self) -> dict[str, object]:
        """Every answer by question code, the named ones and the catalogue's own."""
        named = {key: getattr(self, key) for key in type(self).model_fields if key != "answers"}
        return {**named, **self.answers}


class MaterialRef(_Model):
    """A scanned file kept in the content-addressed materials store; only this travels."""

    kind: str
    sha256: str
    size: int


class Application(_Model):
    channel: Channel
    deceased: Deceased
    death_certificate: DeathCertificate
    applicant: Applicant
    situations: Situations
    matters: tuple[MatterCode, ...]
    materials: tuple[MaterialRef, ...] = ()


class Problem(_Model):
    """One reason an application cannot be accepted, told to the family in Chinese."""

    field: str
    message: str


# --- workflow inputs and results -----------------------------------------------------------------


class CaseInput(_Model):
    case_number: str
    # None when the funeral home's certificate arrived before the family applied.
    application: Application | None = None
    # A new application after an earlier case for the same deceased ended with nothing for the family.
    previous_case: str | None = None
    # The funeral home's certificate that earlier case already holds.
    cremation: CremationRecord | None = None
    # 户口注销 approved in an earlier case for the same deceased: its certificate carries over, and the police
    # receive nothing new (None: the case pushes 户口注销 as 1.0 did).
    hukou_carried: CarriedHukou | None = None
    # The earlier case had reached 办结 (or closed) and this one runs the matters added to it since ...
    added_to: str | None = None
    # ... as the window signed them for this case: the case opens only on that signature.
    addition: MattersAdded | None = None
    # Set when the case continues as new: where the previous run left off.
    carried: CaseCarry | None = None


class CarriedHukou(_Model):
    """户口注销 as an earlier case approved it."""

    case_number: str
    certificate_no: str


class CaseResult(_Model):
    case_number: str
    state: CaseState
    matters: tuple[MatterResult, ...]


class MatterBrief(_Model):
    """What a matter's officer is told of the case on the matter's own page (domain/brief.py): the people
    masked, as any reader of the Web UI may see them; the codec server shows the case's officers the rest."""

    deceased_name: str
    deceased_id: str
    death_date: date
    applicant_name: str
    relationship: str
    channel: str
    situations: tuple[str, ...]
    claims: tuple[str, ...]
    materials: tuple[str, ...]
    payee: str
    # The deceased's 户籍地派出所 (the police matter's department): None when the form named no town.
    police_station: str | None = None


class MatterInput(_Model):
    case_number: str
    matter: MatterCode
    matter_policy: MatterPolicy
    payee: BankAccount
    death_date: date
    hukou_certificate_no: str | None = None
    # Set when the matter continues as new: where the previous run left off.
    carried: MatterProgress | None = None
    # The case as the matter's officer needs to see it.
    brief: MatterBrief | None = None
    # The proofs of which one must be recorded at the window before this matter's money is instructed (the
    # applicant is not among those the catalogue lets be paid on the household register alone); empty: none.
    proof_needed: tuple[MaterialKind, ...] = ()


class MatterResult(_Model):
    case_number: str
    matter: MatterCode
    state: MatterState
    amount: Yuan | None = None
    net_amount: Yuan | None = None
    to_return: Yuan | None = None
    payment_reference: str | None = None
    certificate_no: str | None = None
    reason: str | None = None


# --- signals and updates from people ----------------------------------------------------------------


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OfficerStatement(_Input):
    """Who decided, as the codec server saw them: it verified the officer's bearer token (runtime/codec_auth.py),
    mapped the identity provider's claims to departments and the supervisor role, and signed this with its own
    key (Issuer.OFFICER). ``decision`` is the digest of the decision it travels with (domain/officers.py), and
    ``case_number``/``matter`` the ones that decision names; a matter takes each ``nonce`` once, and only while
    ``issued_at`` is fresh."""

    subject: Annotated[str, StringConstraints(max_length=200)]
    name: ShortText
    departments: tuple[Department, ...] = ()
    supervisor: bool = False
    kind: DecisionKind
    case_number: ShortText | None = None
    matter: MatterCode | None = None
    decision: Annotated[str, StringConstraints(max_length=64)]
    nonce: Annotated[str, StringConstraints(max_length=64)]
    issued_at: datetime
    signature: Signature | None = None


class ApproveInput(_Input):
    officer: ShortText
    note: LongText = ""
    amount: AmountInput | None = None
    # 多领抵扣: paid after the date of death and offset against what the family receives.
    overpaid: AmountInput | None = None
    overpaid_source: ShortText | None = None
    certificate_no: ShortText | None = None
    # A termination's department found no such benefit to stop (无该待遇): its own outcome, not a rejection.
    no_benefit: bool = False
    # The case and matter the officer names, and the codec server's statement of who they are.
    case_number: ShortText | None = None
    matter: MatterCode | None = None
    officer_statement: OfficerStatement | None = None


class PaymentConfirmedInput(_Input):
    """The paying system confirms that the transfer reached the account. Only its signature (runtime/signing.py)
    over this report, for this case and matter, makes it count; ``by`` is a label."""

    reference: ShortText
    by: ShortText
    note: LongText = ""
    signature: Signature | None = None


class PaymentFailedInput(_Input):
    """The paying system reports that the transfer failed (closed account, wrong name, ...)."""

    reference: ShortText
    by: ShortText
    reason: Reason
    signature: Signature | None = None


class RejectInput(_Input):
    officer: ShortText
    reason: Reason
    # The case and matter the officer names, and the codec server's statement of who they are.
    case_number: ShortText | None = None
    matter: MatterCode | None = None
    officer_statement: OfficerStatement | None = None


class RequestMaterialsInput(_Input):
    officer: ShortText
    items: Annotated[list[ShortText], Field(min_length=1, max_length=20)]
    note: LongText = ""
    # The case and matter the officer names, and the codec server's statement of who they are.
    case_number: ShortText | None = None
    matter: MatterCode | None = None
    officer_statement: OfficerStatement | None = None


class ExtendDeadlineInput(_Input):
    supervisor: ShortText
    working_days: Annotated[int, Field(ge=1, le=60)]
    reason: Reason
    # The case and matter the officer names, and the codec server's statement of who they are.
    case_number: ShortText | None = None
    matter: MatterCode | None = None
    officer_statement: OfficerStatement | None = None


class MaterialsSupplementedInput(_Input):
    matter: MatterCode
    items: Annotated[list[ShortText], Field(min_length=1, max_length=20)]
    note: LongText = ""


class CremationCertifiedInput(_Input):
    certificate_no: ShortText
    funeral_home: ShortText
    cremated_on: date
    county: ShortText | None = None


class WithdrawInput(_Input):
    clerk: ShortText
    reason: Reason
    # Only this matter (the others go on); None: the whole application.
    matter: MatterCode | None = None
    # The window's signature over this withdrawal of this case (runtime/signing.py): a matter, and its case,
    # stop only on the window's word, whoever forwards it.
    signature: Signature | None = None


class PayeeProvenInput(_Input):
    """The window has seen the proof that lets an applicant who is not spouse, child or parent be paid (亲属关系证明
    or a notarised succession document). The window signs it (runtime/signing.py) for this case: money waiting
    for it moves only on the window's word, whoever forwards it."""

    clerk: ShortText
    proof: MaterialKind
    # The document's number or issuer, as the window records it.
    document: ShortText
    signature: Signature | None = None


class MattersAdded(_Input):
    """Matters added to a case for the same deceased, at the window (or the portal for the online channel's
    matters): checked by intake's rules on the client, signed by the window or the portal (runtime/signing.py),
    and taken by the case only on a signature of an issuer who may add them (domain/decisions.py, ``may_sign``)."""

    clerk: ShortText
    # The added matters (never 户口注销), in catalogue order.
    matters: Annotated[tuple[MatterCode, ...], Field(min_length=1, max_length=20)]
    channel: Channel = Channel.WINDOW
    # The deceased's situations with the family's new answers (they select the added matters).
    situations: Situations
    # The scanned materials brought for the added matters.
    materials: Annotated[tuple[MaterialRef, ...], Field(max_length=40)] = ()
    # Given when an added matter pays the family and the case had no account (nor the deceased's card).
    bank_account: BankAccount | None = None
    deceased_bank_card: ShortText | None = None
    # Who signed it: the window, or the portal for a signed-in applicant's online matters (domain/decisions.py,
    # ``may_sign``). The default is left out of what is signed, so the window's earlier signatures stay valid.
    issuer: Issuer = Issuer.WINDOW
    signature: Signature | None = None


class DecisionCommand(_Input):
    """What the CLI sends as an update: one decision with its kind."""

    kind: DecisionKind
    approve: ApproveInput | None = None
    reject: RejectInput | None = None
    request_materials: RequestMaterialsInput | None = None
    materials_supplemented: MaterialsSupplementedInput | None = None
    extend_deadline: ExtendDeadlineInput | None = None
    payment_confirmed: PaymentConfirmedInput | None = None
    payment_failed: PaymentFailedInput | None = None


class CommandAck(_Model):
    accepted: bool
    state: MatterState | CaseState
    message: str
    # The payment instruction the decision gave (发放中), for the paying system's report.
    payment_reference: str | None = None


# --- what staff see --------------------------------------------------------------------------------


class DecisionRecord(_Model):
    kind: DecisionKind
    at: datetime
    by: str
    note: str = ""
    amount: Yuan | None = None
    certificate_no: str | None = None
    reason: str | None = None
    items: tuple[str, ...] = ()
    working_days: int | None = None


class RefusedAction(_Model):
    at: datetime
    action: str
    matter: MatterCode | None = None
    reason: str
    # Who tried (an officer's decision): the verified name, or the typed one marked unverified.
    by: str | None = None


class TimelineEntry(_Model):
    at: datetime
    event: str
    matter: MatterCode | None = None


class ClockPause(_Model):
    started_at: datetime
    ended_at: datetime | None = None
    remaining_working_days: int | None = None


class MatterView(_Model):
    case_number: str
    code: MatterCode
    name: str
    department: Department
    department_name: str
    state: MatterState
    pays_family: bool
    time_limit_working_days: int
    pushed_at: datetime | None = None
    deadline: datetime | None = None
    calendar_fallback: bool = False
    overdue: bool = False
    working_days_overdue: int = 0
    escalation_level: int = 0
    escalations: tuple[EscalationStep, ...] = ()
    pauses: tuple[ClockPause, ...] = ()
    pending_items: tuple[str, ...] = ()
    decisions: tuple[DecisionRecord, ...] = ()
    # The planned escalation steps of the running deadline, each marked when its date is approximate.
    ladder: tuple[LadderRung, ...] = ()
    # Money: the approved (核定) amount, what was paid after death and is offset (多领抵扣), and the net.
    amount: Yuan | None = None
    overpaid: Yuan | None = None
    overpaid_source: str | None = None
    net_amount: Yuan | None = None
    # A negative net: what the family must pay back (nothing is paid).
    to_return: Yuan | None = None
    payment_reference: str | None = None
    # Which instruction this is (a new one after each corrected account).
    payment_attempt: int = 1
    payment_instructed_at: datetime | None = None
    payment_confirmed_at: datetime | None = None
    certificate_no: str | None = None
    reason: str | None = None
    # The latest refusals only (a flood of bad signals must not grow every report); the count is total.
    refused_actions: tuple[RefusedAction, ...] = ()
    refused_total: int = 0
    manual_handling: str | None = None
    final: bool = False
    # A termination's stop date by the catalogue's rule (DOMAIN.md §5): what was paid after it is 多领.
    stop_date: date | None = None
    payee_unproven: bool = False


class MatterProgress(_Model):
    """Everything a matter workflow knows of its matter, in one model: the pure rules (domain/transitions.py,
    domain/ladder.py, domain/reminders.py) return a new one for every change, and a run that continues as new
    carries exactly this (``MatterInput.carried``)."""

    state: MatterState = MatterState.PENDING_PUSH
    # Where the money goes: the applicant's account, or the one the window corrected it to.
    payee: BankAccount
    # Money must wait for the window's record of a relationship proof (``MatterInput.proof_needed``).
    payee_unproven: bool = False
    pushed_at: datetime | None = None
    deadline: datetime | None = None
    calendar_fallback: bool = False
    overdue: bool = False
    working_days_overdue: int = 0
    escalation_level: int = 0
    escalations: tuple[EscalationStep, ...] = ()
    pauses: tuple[ClockPause, ...] = ()
    pending_items: tuple[str, ...] = ()
    decisions: tuple[DecisionRecord, ...] = ()
    # Money: approved (核定), offset (多领抵扣), net; what the family must return when the net is negative.
    amount: Yuan | None = None
    overpaid: Yuan | None = None
    overpaid_source: str | None = None
    net_amount: Yuan | None = None
    to_return: Yuan | None = None
    payment_attempt: int = 1
    payment_reference: str | None = None
    payment_instructed_at: datetime | None = None
    payment_confirmed_at: datetime | None = None
    # When an unconfirmed payment next goes to the supervisor (runs before working-day reminders).
    payment_due: datetime | None = None
    # Working-day reminders: the wait they belong to, when it began, the next one planned, and how many of this
    # wait went out.
    reminder_wait: str | None = None
    reminder_since: datetime | None = None
    reminder_at: datetime | None = None
    reminder_days: int = 0
    reminders: int = 0
    # The working days the running deadline counts (for "working days left"), from its plan.
    deadline_days: tuple[date, ...] = ()
    certificate_no: str | None = None
    reason: str | None = None
    manual_handling: str | None = None
    refused: tuple[RefusedAction, ...] = ()
    refused_total: int = 0
    # Nonces of the officer statements this matter took (each counts once).
    officer_nonces: tuple[str, ...] = ()
    final: bool = False
    # What the running deadline is counted from, so a ladder step can count it again on today's calendar.
    plan_start: datetime | None = None
    plan_days: int = 0
    plan_late: int = 0
    # The ladder to the running deadline; the rungs that fired, keyed by (generation, step, working days
    # overdue); an extension starts a new generation.
    rungs: tuple[LadderRung, ...] = ()
    fired: tuple[tuple[int, EscalationStep, int], ...] = ()
    generation: int = 0
    timeline: tuple[TimelineEntry, ...] = ()
    # The sequence number of the last audit event (its key, and that of a notification outside the ladder).
    seq: int = 0
    # The search-attribute values last set (a new run keeps them).
    attributes: dict[str, Any] = Field(default_factory=dict)
    # Which run of the workflow this is (a long or flooded history continues as new).
    runs: int = 1
    # Its case continued as new: the matter tells the case when it ends (the case's new run did not start it).
    report_end: bool = False


class CaseCarry(_Model):
    """What a case takes into its next run when it continues as new (a long or flooded history). Its running
    matters go on (they are abandoned by the closing run, not ended) and are followed by id."""

    phase: CasePhase
    application: Application | None
    policy: Policy | None
    state: CaseState
    shown_state: CaseState
    matters: tuple[MatterView, ...]
    # Matters started by any run; those not final the new run follows by id, learning outcomes from the engine.
    started: tuple[MatterCode, ...]
    timeline: tuple[TimelineEntry, ...]
    refused: tuple[RefusedAction, ...]
    refused_total: int
    cremation: CremationRecord | None
    withdrawal: WithdrawInput | None
    received_at: datetime
    closed_at: datetime | None
    seq: int
    application_due: datetime | None
    cremation_wake: datetime | None
    cremation_reminders: int
    runs: int
    # Running matters the closing run could not tell that it continued: the new run checks them soon.
    recheck: tuple[MatterCode, ...] = ()
    # The relationship proof the window recorded.
    payee_proof: MaterialKind | None = None


class MatterOutcomeRequest(_Model):
    case_number: str
    matter: MatterCode
    # The matter reported its end: wait a moment for its run to complete.
    ended: bool = False


class MatterStanding(_Model):
    """A matter as the engine holds it: its result once completed, else its current state (None: not found)."""

    state: MatterState | None = None
    result: MatterResult | None = None


class StatementCheck(_Model):
    """A signature to check against the worker's trust anchors; ``digest`` names the statement
    (domain/statements.py), so no personal data travels with the check."""

    issuer: Issuer
    digest: str
    signature: str | None


class StatementVerdict(_Model):
    # None: the issuer's own signature over exactly that statement.
    refused: str | None = None


class OfficerCheck(_Model):
    """An officer's decision to check: the digest of its statement (None: it carries none)."""

    digest: str | None = None
    signature: str | None = None


class OfficerVerdict(_Model):
    # Whether this worker takes decisions only from verified officers (SHENHOU_REQUIRE_VERIFIED_OFFICERS).
    required: bool
    refused: str | None = None


class MatterReport(_Model):
    """A matter's report to its case, sent only when the case must act on it (a payment that failed and
    waits for a corrected account, or a retry after the correction); outcomes arrive as the child's result."""

    matter: MatterCode
    state: MatterState
    event: str
    at: datetime
    # The matter has ended (sent to a case that continued as new, which did not start it).
    final: bool = False


class PayeeCorrectedInput(_Input):
    """A new payee for failed payments, given at the window. The window signs it (runtime/signing.py) for this
    case and exactly the failed payments it names, so it counts once, for those payments only."""

    clerk: ShortText
    bank_name: ShortText
    account_name: ShortText
    card_number: ShortText
    # A passbook (存折/一折通) has an account number with no check digit.
    kind: AccountKind = AccountKind.CARD
    # An account not in the applicant's name: the clerk records why (e.g. a notarised authorisation).
    authorised_reason: Reason | None = None
    # ... and the number of the 收款委托书 (or notarised document) the window has on file for it.
    authorisation_document: ShortText | None = None
    # The references (PAY-…) of the failed payments this correction is for.
    references: Annotated[tuple[ShortText, ...], Field(max_length=20)] = ()
    signature: Signature | None = None


class CremationRecord(_Model):
    certificate_no: str
    funeral_home: str
    cremated_on: date
    received_at: datetime


class StatusSnapshot(_Model):
    """The one status model both workflow types answer with.

    A matter workflow fills only its own matter; a case fills them all. Personal data is masked.
    """

    case_number: str
    scope: str
    case_state: CaseState | None = None
    # An earlier case for the same deceased that ended with nothing for the family.
    previous_case: str | None = None
    # ... or the finished case whose added matters this case runs.
    added_to: str | None = None
    channel: Channel | None = None
    deceased: str | None = None
    applicant: str | None = None
    payee_card: str | None = None
    received_at: datetime | None = None
    closed_at: datetime | None = None
    cremation: CremationRecord | None = None
    hukou_certificate_no: str | None = None
    matters: tuple[MatterView, ...] = ()
    # The latest refusals (the case's own and, in an assembled status, its matters'); the case's own total.
    refused_actions: tuple[RefusedAction, ...] = ()
    refused_total: int = 0
    timeline: tuple[TimelineEntry, ...] = ()


# --- activities ------------------------------------------------------------------------------------


class PolicyRequest(_Model):
    case_number: str


class CaseOpening(_Model):
    """A case as received, written to the register; the answer is the county policy for its matters."""

    batch: RegisterBatch
    matters: tuple[MatterCode, ...]


class CaseRecord(_Model):
    case_number: str
    application: Application
    state: CaseState
    received_at: datetime
    closed_at: datetime | None = None
    previous_case: str | None = None


class CaseStateRecord(_Model):
    case_number: str
    state: CaseState
    at: datetime


class Recorded(_Model):
    """What a register write did: `new` is false when a retry found it already written."""

    new: bool


class AuditEvent(_Model):
    case_number: str
    matter: MatterCode | None = None
    key: str
    event: str
    at: datetime
    actor: str = "system"


class Notification(_Model):
    case_number: str
    matter: MatterCode | None = None
    key: str
    kind: NotificationKind
    recipient: Recipient
    department: Department | None = None
    message: str
    at: datetime


class RegisterBatch(_Model):
    """What one workflow task changed, written to the register in one transaction."""

    case_number: str
    # The case itself, written once when the family's application is received.
    case: CaseRecord | None = None
    case_state: CaseStateRecord | None = None
    matter: MatterView | None = None
    # What the paying system reported for one of this matter's instructions.
    payment: PaymentResult | None = None
    audit: tuple[AuditEvent, ...] = ()
    notifications: tuple[Notification, ...] = ()
    # The case's application as it now stands, once matters were added to it.
    application: Application | None = None


class PushRequest(_Model):
    case_number: str
    matter: MatterCode
    department: Department
    pushed_at: datetime
    hukou_certificate_no: str | None = None
    # The unit of the department that handles it: the police matter's 户籍地派出所 (None: the department's own).
    unit: str | None = None
    # The clock the department is held to, counted by the same activity once the push is done.
    clock: DeadlineRequest | None = None


class PushReceipt(_Model):
    inbox_id: int
    new: bool
    plan: DeadlinePlan | None = None


class WithdrawItemRequest(_Model):
    case_number: str
    matter: MatterCode
    reason: str
    at: datetime


class PaymentInstruction(_Model):
    """What to transfer: ``amount`` is the net (what the family receives), ``gross`` minus ``offset``."""

    case_number: str
    matter: MatterCode
    amount: Yuan
    payee: BankAccount
    at: datetime
    gross: Yuan | None = None
    offset: Yuan | None = None
    # A new attempt (and reference) only after the paying system reported the previous one failed.
    attempt: int = 1
    # Counted with the instruction: by when the paying system should have confirmed the transfer.
    confirm_within: DeadlineRequest | None = None


class PaymentReceipt(_Model):
    """The instruction as the ledger holds it (``paid_at``: when it was given to the paying system)."""

    reference: str
    amount: Yuan
    paid_at: datetime
    new: bool
    confirm_by: datetime | None = None


class PaymentResult(_Model):
    """What the paying system reported for an instruction, as the ledger records it."""

    case_number: str
    matter: MatterCode
    reference: str
    confirmed: bool
    at: datetime
    reason: str | None = None


class DeadlineRequest(_Model):
    case_number: str
    matter: MatterCode
    start: datetime
    working_days: int
    timezone: str
    ladder: LadderPolicy
    # A matter that was this many working days overdue when its clock stopped resumes overdue at once
    # (``working_days`` is 0) and its ladder continues with the next step.
    already_overdue: int = 0
    # The ladder only up to this many working days overdue (None: all of it); a step counts it on when it fires.
    horizon: int | None = None


class LadderRung(_Model):
    step: EscalationStep
    index: int
    at: datetime
    working_days_overdue: int
    # Its date was counted through a year with no official holiday schedule (statutory rules only).
    approximate: bool = False


class DeadlinePlan(_Model):
    deadline: datetime
    rungs: tuple[LadderRung, ...]
    # The working days counted, in order (the start's own day never).
    working_days: tuple[date, ...] = ()
    # The deadline was counted through a year with no official holiday schedule: approximate.
    calendar_fallback: bool = False
    # The calendar data the plan was made with; a ladder step re-plans when it has changed.
    calendar_version: str = ""


class RemainingRequest(_Model):
    case_number: str
    matter: MatterCode
    paused_at: datetime
    deadline: datetime
    timezone: str


class RemainingDays(_Model):
    working_days: int
    calendar_fallback: bool = False
    # The deadline had passed when the clock stopped: nothing is left (``working_days`` is 0).
    overdue: bool = False


class ReminderRequest(_Model):
    """The next reminder of a wait that began at ``since``: the first once ``first_after`` working days have
    passed, then one every ``every`` working days; ``sent`` are already out."""

    since: datetime
    first_after: int = Field(ge=0)
    every: int = Field(ge=1)
    sent: int = Field(ge=0)
    timezone: str
    hour: int = Field(default=9, ge=0, le=23)


class ReminderPlan(_Model):
    """When the reminder goes out (``hour`` o'clock local on a working day) and how many whole working days
    have passed since the wait began by then (what its text says)."""

    at: datetime
    working_days: int
    calendar_fallback: bool = False


# Models that name a model defined further down resolve it now, not at first use inside a workflow.
for _model in [value for value in list(globals().values())
               if isinstance(value, type) and issubclass(value, BaseModel) and value.__module__ == __name__]:
    _model.model_rebuild()
