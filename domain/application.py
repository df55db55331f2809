"""Intake validation of the one registration form (身后“一件事一次办”登记表), with 一次告知.

``validate_application`` takes whatever a JSON or YAML form parsed to and returns either a valid
``Application`` or every problem found, each told in Chinese (docs/domain.md, "The application and
一次告知" and "Matters and materials"). It never raises, never reads a clock (``today`` is a parameter), and
never echoes personal data in a message.

The form is read section by section through small field tables (``_FieldSpec``); each field kind
has one parser. Checks that span fields (eligibility, dates, certificate issuer, matters) run on
whatever parsed, so one answer lists as much as can be known.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum, StrEnum, auto
from typing import Any

from pydantic import ValidationError

from domain.catalogue import Catalogue, active_catalogue
from domain.enums import (
    UNKNOWN_ANSWER,
    AccountKind,
    CertificateIssuer,
    Channel,
    DeathCircumstance,
    MaterialKind,
    MatterCode,
    PensionStatus,
    Relationship,
)
from domain.identity import id_birth_date, id_check_digit, luhn_valid, mobile_valid, passbook_valid
from domain.models import Application, BankAccount, Problem, Situations
from domain.places import in_area, in_county, police_station, shown, town
from domain.policy import Policy

__all__ = [
    "ACCOUNT_KIND_LABELS",
    "CHANNEL_LABELS",
    "DEATH_CIRCUMSTANCE_LABELS",
    "ISSUER_LABELS",
    "PENSION_STATUS_LABELS",
    "RELATIONSHIP_LABELS",
    "allowed_matters",
    "format_problems",
    "validate_application",
]

NAME_MAX_CHARS = 30
TEXT_MAX_CHARS = 100
MAX_MATERIALS = 100
MAX_MATTER_ENTRIES = 50

PROBLEMS_HEADER = "申请未受理，请一次补齐以下问题："
_SCHEME = "身后“一件事一次办”"

# --- what each choice means, in the words shown to families ---------------------------------------

CHANNEL_LABELS: dict[Channel, str] = {
    Channel.WINDOW: "县政务大厅窗口办理",
    Channel.ONLINE: "网上申请",
}
DEATH_CIRCUMSTANCE_LABELS: dict[DeathCircumstance, str] = {
    DeathCircumstance.HOME: "在家或养老机构未经救治正常死亡",
    DeathCircumstance.MEDICAL: "在医疗机构或送医途中死亡（非案件类）",
    DeathCircumstance.CASE_RELATED: "案件类死亡",
}
ISSUER_LABELS: dict[CertificateIssuer, str] = {
    CertificateIssuer.VILLAGE_COMMITTEE: "村民委员会",
    CertificateIssuer.COMMUNITY: "居民委员会（社区）",
    CertificateIssuer.TOWNSHIP_HEALTH_CENTRE: "乡镇卫生院",
    CertificateIssuer.COMMUNITY_HEALTH_CENTRE: "社区卫生服务中心",
    CertificateIssuer.MEDICAL_INSTITUTION: "医疗机构",
    CertificateIssuer.CARE_HOME_CLINIC: "医养结合机构内设医疗机构",
}
ACCOUNT_KIND_LABELS: dict[AccountKind, str] = {
    AccountKind.CARD: "银行卡",
    AccountKind.PASSBOOK: "存折（一折通）",
}
# How the form offers the "unknown" answer of a benefit question.
UNKNOWN_LABEL = "不清楚"

RELATIONSHIP_LABELS: dict[Relationship, str] = {
    Relationship.SPOUSE: "配偶",
    Relationship.CHILD: "子女",
    Relationship.PARENT: "父母",
    Relationship.SIBLING: "兄弟姐妹",
    Relationship.GRANDPARENT: "祖父母、外祖父母",
    Relationship.GRANDCHILD: "孙子女、外孙子女",
    Relationship.CHILD_IN_LAW: "儿媳、女婿",
    Relationship.OTHER_FAMILY: "其他家属",
    Relationship.NOT_FAMILY: "非亲属",
}
PENSION_STATUS_LABELS: dict[PensionStatus, str] = {
    PensionStatus.NONE: "无养老保险待遇",
    PensionStatus.ENTERPRISE_RETIREE: "企业退休职工",
    PensionStatus.ENTERPRISE_EMPLOYEE: "企业在职职工",
    PensionStatus.INSTITUTION_EMPLOYEE: "机关事业单位在职人员",
    PensionStatus.INSTITUTION_RETIREE: "机关事业单位退休人员",
    PensionStatus.RESIDENT_PENSIONER: "城乡居民养老保险参保人员",
}


# --- field tables ------------------------------------------------------------------------------


class _Kind(Enum):
    NAME = auto()
    TEXT = auto()
    ID_NUMBER = auto()
    BANK_CARD = auto()
    ACCOUNT_NUMBER = auto()
    PHONE = auto()
    DATE = auto()
    FLAG = auto()
    # Yes, no, or 不清楚 (a benefit the deceased may have drawn).
    DREW = auto()
    CHOICE = auto()
    SHA256 = auto()
    SIZE = auto()


@dataclass(frozen=True)
class _FieldSpec:
    key: str
    label: str
    kind: _Kind
    required: bool = True
    default: object = None
    choices: tuple[tuple[str, str], ...] = ()  # (value, meaning told to families)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


@dataclass(frozen=True)
class _SectionSpec:
    label: str
    fields: tuple[_FieldSpec, ...]
    subsections: tuple[str, ...] = ()


def _field(key: str, label: str, kind: _Kind) -> _FieldSpec:
    return _FieldSpec(key, label, kind)


def _choice(
    key: str,
    label: str,
    labels: Mapping[Any, str],
    default: StrEnum | None = None,
) -> _FieldSpec:
    return _FieldSpec(
        key, label, _Kind.CHOICE, required=default is None, default=default, choices=tuple(labels.items())
    )


def _flag(key: str, label: str) -> _FieldSpec:
    return _FieldSpec(key, label, _Kind.FLAG, required=False, default=False)


_ROOT = _SectionSpec(
    "申请表",
    (_choice("channel", "申请渠道", CHANNEL_LABELS, default=Channel.WINDOW),),
    subsections=("deceased", "death_certificate", "applicant", "situations", "matters", "materials"),
)
_DECEASED = _SectionSpec(
    "逝者信息",
    (
        _field("name", "逝者姓名", _Kind.NAME),
        _field("id_number", "逝者身份证号码", _Kind.ID_NUMBER),
        _field("household_county", "逝者户籍所在县", _Kind.TEXT),
        _FieldSpec("household_town", "逝者户籍所在乡镇", _Kind.TEXT, required=False),
        # Recorded by intake from the town (a value in the form is not used): read back from an accepted form.
        _FieldSpec("police_station", "户籍地派出所", _Kind.TEXT, required=False),
        _field("insured_area", "逝者参保地", _Kind.TEXT),
        _field("death_date", "死亡日期", _Kind.DATE),
        _choice("death_circumstance", "死亡情形", DEATH_CIRCUMSTANCE_LABELS),
        _flag("work_injury", "是否工伤死亡"),
        _field("cremation_county", "火化地", _Kind.TEXT),
        # Asked only when something will be paid (``_check_accounts``).
        _FieldSpec("bank_card", "逝者银行卡号", _Kind.BANK_CARD, required=False),
    ),
)
_DEATH_CERTIFICATE = _SectionSpec(
    "死亡医学证明信息",
    (
        _field("number", "死亡医学证明编号", _Kind.TEXT),
        _choice("issuer_type", "死亡医学证明出具单位类型", ISSUER_LABELS),
        _field("issuer_name", "死亡医学证明出具单位名称", _Kind.TEXT),
    ),
)
_APPLICANT = _SectionSpec(
    "申请人信息",
    (
        _field("name", "申请人姓名", _Kind.NAME),
        _field("id_number", "申请人身份证号码", _Kind.ID_NUMBER),
        _choice("relationship", "申请人与逝者关系", RELATIONSHIP_LABELS),
        _field("phone", "申请人手机号码", _Kind.PHONE),
    ),
    subsections=("bank_account",),
)
_BANK_ACCOUNT = _SectionSpec(
    "申请人收款账户",
    (
        _field("bank_name", "收款开户银行", _Kind.TEXT),
        _field("account_name", "收款账户户名", _Kind.NAME),
        _choice("kind", "收款账户类型", ACCOUNT_KIND_LABELS, default=AccountKind.CARD),
        # A card's number (Luhn) or a passbook's account number, as ``kind`` says (``_check_account_number``).
        _field("card_number", "收款银行卡号", _Kind.ACCOUNT_NUMBER),
        _FieldSpec("authorised_reason", "委托他人收款的原因", _Kind.TEXT, required=False),
    ),
)
def _situations_spec(catalogue: Catalogue) -> _SectionSpec:
    """The 逝者情形 section: the catalogue's questions."""
    fields = tuple(
        _FieldSpec(q.code, q.label, _Kind.DREW, required=False, default=False) if q.unknown_allowed
        else _flag(q.code, q.label) if q.kind == "bool" else _FieldSpec(
            q.code, q.label, _Kind.CHOICE, required=q.default is None, default=q.default,
            choices=tuple((c.value, c.label) for c in q.choices))
        for q in catalogue.questions
    )
    return _SectionSpec("逝者情形", fields)


def _material_section(index: int, catalogue: Catalogue) -> _SectionSpec:
    prefix = f"第{index + 1}份材料的"
    return _SectionSpec(
        f"第{index + 1}份材料",
        (
            _choice("kind", prefix + "类型", catalogue.material_labels()),
            _field("sha256", prefix + "sha256摘要", _Kind.SHA256),
            _field("size", prefix + "文件大小", _Kind.SIZE),
        ),
    )


# Problems are listed in form order: by top-level section, then by field, then as found.
_SECTION_ORDER = ("", "channel", "deceased", "death_certificate", "applicant", "situations", "matters", "materials")
_FIELD_ORDER: dict[str, int] = {
    path: index
    for index, path in enumerate(
        _join(prefix, field.key)
        for prefix, spec in (
            ("", _ROOT),
            ("deceased", _DECEASED),
            ("death_certificate", _DEATH_CERTIFICATE),
            ("applicant", _APPLICANT),
            ("applicant.bank_account", _BANK_ACCOUNT),
            ("situations", _situations_spec(active_catalogue())),
        )
        for field in spec.fields
    )
}

# --- parsers: one per field kind; each returns the clean value or a message ---------------------

_Parsed = tuple[object, str | None]

_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_DIGITS_RE = re.compile(r"[0-9]+")
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_SHA256_RE = re.compile(r"[0-9a-f]{64}")
_SAFE_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")
_SPACES_RE = re.compile(r"\s+")
_PHONE_SEPARATORS_RE = re.compile(r"[\s\-]+")
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co"})
_CARD_LENGTHS = range(12, 20)
# Passbook (存折/一折通) account numbers: digits, no check digit the system could verify.
_MAX_SIZE = 2**63 - 1


def _not_text(value: object, label: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{label}应按文字填写（请加引号）"
    return f"{label}应为文字"


def _clean_text(value: object, label: str, max_chars: int) -> _Parsed:
    if not isinstance(value, str):
        return None, _not_text(value, label)
    text = value.strip()
    if not text:
        return None, f"请填写{label}"
    if len(text) > max_chars:
        return None, f"{label}不能超过{max_chars}个字"
    if any(unicodedata.category(ch) in _INVISIBLE_CATEGORIES for ch in text):
        return None, f"{label}含有不可见或无效字符"
    return text, None


def _parse_name(value: object, label: str) -> _Parsed:
    return _clean_text(value, label, NAME_MAX_CHARS)


def _parse_text(value: object, label: str) -> _Parsed:
    return _clean_text(value, label, TEXT_MAX_CHARS)


def _parse_id_number(value: object, label: str) -> _Parsed:
    if not isinstance(value, str):
        return None, _not_text(value, label)
    number = value.strip().upper()
    if not number:
        return None, f"请填写{label}"
    if not _ID_RE.fullmatch(number):
        return None, f"{label}应为18位（前17位为数字，末位为数字或X）"
    if id_birth_date(number) is None:
        return None, f"{label}中的出生日期不存在"
    if id_check_digit(number[:17]) != number[17]:
        return None, f"{label}校验位不正确"
    return number, None


def _parse_bank_card(value: object, label: str) -> _Parsed:
    number, problem = _parse_account_number(value, label)
    if not isinstance(number, str):
        return None, problem
    problem = _card_problem(number, label)
    return (None, problem) if problem else (number, None)


def _card_problem(number: str, label: str) -> str | None:
    """A card's number is 12–19 digits passing Luhn."""
    if len(number) not in _CARD_LENGTHS:
        return f"{label}应为12至19位数字"
    return None if luhn_valid(number) else f"{label}校验不通过，请核对卡号"


def _parse_account_number(value: object, label: str) -> _Parsed:
    """Digits only; the length and the card's Luhn check depend on the account's kind (``_check_account_number``)."""
    if not isinstance(value, str):
        return None, _not_text(value, label)
    number = _SPACES_RE.sub("", value)
    if not number:
        return None, f"请填写{label}"
    if not _DIGITS_RE.fullmatch(number):
        return None, f"{label}只能包含数字"
    return number, None


def _parse_phone(value: object, label: str) -> _Parsed:
    if not isinstance(value, str):
        return None, _not_text(value, label)
    number = _PHONE_SEPARATORS_RE.sub("", value)
    if not number:
        return None, f"请填写{label}"
    number = number.removeprefix("+86")
    if not (_DIGITS_RE.fullmatch(number) and mobile_valid(number)):
        return None, f"{label}不是有效的大陆手机号码"
    return number, None


def _parse_date(value: object, label: str) -> _Parsed:
    # YAML turns an unquoted 2026-11-18 into a date already; a datetime is not a date here.
    if isinstance(value, date) and not isinstance(value, datetime):
        return value, None
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value.strip()):
        return None, f"{label}应为YYYY-MM-DD格式的日期"
    try:
        return date.fromisoformat(value.strip()), None
    except ValueError:
        return None, f"{label}不是有效的日期"


def _parse_flag(value: object, label: str) -> _Parsed:
    if isinstance(value, bool):
        return value, None
    return None, f"{label}应填写true或false"


def _parse_drew(value: object, label: str) -> _Parsed:
    if isinstance(value, bool):
        return value, None
    if isinstance(value, str) and value.strip() in (UNKNOWN_ANSWER, UNKNOWN_LABEL):
        return UNKNOWN_ANSWER, None
    # The portal's choice sends its value as text.
    if isinstance(value, str) and value.strip() in ("true", "false"):
        return value.strip() == "true", None
    return None, f"{label}应填写true、false或“{UNKNOWN_LABEL}”"


def _parse_sha256(value: object, label: str) -> _Parsed:
    if isinstance(value, str) and _SHA256_RE.fullmatch(value.strip().lower()):
        return value.strip().lower(), None
    return None, f"{label}应为64位十六进制字符"


def _parse_size(value: object, label: str) -> _Parsed:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= _MAX_SIZE:
        return value, None
    return None, f"{label}应为不小于0的整数（字节数）"


def _parse_choice(value: object, spec: _FieldSpec) -> _Parsed:
    if isinstance(value, str):
        for member, _meaning in spec.choices:
            if str(member) == value.strip():
                return member, None
    allowed = "、".join(f"{member}（{meaning}）" for member, meaning in spec.choices)
    return None, f"{spec.label}填写有误，可选：{allowed}"


_PARSERS: dict[_Kind, Callable[[object, str], _Parsed]] = {
    _Kind.NAME: _parse_name,
    _Kind.TEXT: _parse_text,
    _Kind.ID_NUMBER: _parse_id_number,
    _Kind.BANK_CARD: _parse_bank_card,
    _Kind.ACCOUNT_NUMBER: _parse_account_number,
    _Kind.PHONE: _parse_phone,
    _Kind.DATE: _parse_date,
    _Kind.FLAG: _parse_flag,
    _Kind.DREW: _parse_drew,
    _Kind.SHA256: _parse_sha256,
    _Kind.SIZE: _parse_size,
}

# --- the reader: collects problems while reading sections --------------------------------------


@dataclass
class _Section:
    """What one section yielded: every field that parsed, and whether all of them did."""

    values: dict[str, object]
    complete: bool


class _Reader:
    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, field: str, message: str) -> None:
        self.problems.append(Problem(field=field, message=message))

    def mapping(
        self, parent: Mapping[object, object], key: str, path: str, spec: _SectionSpec
    ) -> Mapping[object, object] | None:
        """The sub-mapping at ``key``; a missing one reads as empty so each field is listed."""
        value = parent.get(key)
        if value is None:
            return {}
        if isinstance(value, Mapping):
            return value
        self.problem(path, f"{spec.label}格式不正确")
        return None

    def subsection(
        self, parent: Mapping[object, object] | None, path: str, spec: _SectionSpec
    ) -> tuple[Mapping[object, object] | None, _Section]:
        """The section at ``path`` (its last part is the key in ``parent``) and what it yielded."""
        data = self.mapping(parent, path.rsplit(".", 1)[-1], path, spec) if parent is not None else None
        return data, self.section(data, path, spec)

    def section(self, data: Mapping[object, object] | None, path: str, spec: _SectionSpec) -> _Section:
        """Read every field of ``spec`` from ``data`` (None: the section was not a mapping)."""
        if data is None:
            return _Section({}, complete=False)
        section = _Section({}, complete=True)
        for field in spec.fields:
            value, message = _parse_field(data.get(field.key), field)
            if message is None:
                section.values[field.key] = value
            else:
                section.complete = False
                self.problem(_join(path, field.key), message)
        self._unknown_keys(data, path, spec)
        return section

    def _unknown_keys(self, data: Mapping[object, object], path: str, spec: _SectionSpec) -> None:
        known = {field.key for field in spec.fields} | set(spec.subsections)
        for key in data:
            if isinstance(key, str) and key in known:
                continue
            # Only a plain identifier is repeated back: a key could be anything the family typed.
            if isinstance(key, str) and _SAFE_KEY_RE.fullmatch(key):
                self.problem(_join(path, key), f"{spec.label}中有无法识别的填报项“{key}”")
            else:
                self.problem(path, f"{spec.label}中有无法识别的填报项")


def _parse_field(raw: object, spec: _FieldSpec) -> _Parsed:
    if raw == "" and spec.kind is _Kind.BANK_CARD and not spec.required:
        raw = None  # the deceased's card left empty: asked for only when something pays
    if raw is None:
        return (None, f"请填写{spec.label}") if spec.required else (spec.default, None)
    if spec.kind is _Kind.CHOICE:
        return _parse_choice(raw, spec)
    return _PARSERS[spec.kind](raw, spec.label)


# --- matters -----------------------------------------------------------------------------------

def _in_catalogue_order(codes: set[MatterCode], catalogue: Catalogue) -> list[MatterCode]:
    order = catalogue.order()
    rest = sorted(codes - {MatterCode.HUKOU_CANCELLATION}, key=lambda code: order.get(code, len(order)))
    return [MatterCode.HUKOU_CANCELLATION, *rest]


def allowed_matters(situations: Situations, catalogue: Catalogue | None = None) -> list[MatterCode]:
    """Every enabled matter the situations select (the catalogue's questions), 户口注销 first, then in
    catalogue order."""
    return (catalogue or active_catalogue()).selected(situations.answer_map())


def _short_name(policy: Policy, code: MatterCode, catalogue: Catalogue) -> str:
    try:
        return policy.matter(code).short_name
    except KeyError:
        entry = catalogue.entry(code)
        return entry.short_name if entry is not None else code.value


def _read_chosen(reader: _Reader, raw: object, catalogue: Catalogue) -> dict[MatterCode, str] | None:
    """The matters the applicant listed, each with its field path; None when none was listed."""
    if raw is None:
        return None
    if not isinstance(raw, list):
        reader.problem("matters", "所选事项应为事项代码列表")
        return {}
    if len(raw) > MAX_MATTER_ENTRIES:
        reader.problem("matters", f"所选事项不能超过{MAX_MATTER_ENTRIES}项")
        return {}
    chosen: dict[MatterCode, str] = {}
    for index, item in enumerate(raw):
        entry = catalogue.entry(item.strip()) if isinstance(item, str) else None
        code = MatterCode(entry.code) if entry is not None else None
        if code is None:
            reader.problem(f"matters.{index}", f"所选第{index + 1}项事项代码无法识别")
        else:
            chosen.setdefault(code, f"matters.{index}")
    return chosen


def _select_matters(
    reader: _Reader, raw: object, situations: Situations | None, channel: Channel | None, policy: Policy,
    catalogue: Catalogue,
) -> tuple[MatterCode, ...]:
    """The matters the case runs: chosen (自愿原则) within what the situations allow, and every termination they
    select, chosen or not (a benefit left running is paid on after the death) where the channel takes them."""
    chosen = _read_chosen(reader, raw, catalogue)
    if situations is None:
        return ()
    allowed = set(allowed_matters(situations, catalogue))
    if chosen is None:
        selected = allowed
    else:
        # Online, a termination the channel cannot take is left to the window, as the family chose.
        selected = {MatterCode.HUKOU_CANCELLATION, *(code for code in allowed if _terminates(code, catalogue)
                                                     and _reach_problem(policy, code, channel, catalogue) is None)}
        for code, path in chosen.items():
            entry = catalogue.entry(code)
            if entry is not None and not entry.enabled:
                reader.problem(path, f"本县暂未开通“{entry.short_name}”事项")
            elif code in allowed:
                selected.add(code)
            else:
                reader.problem(path, f"所选事项“{_short_name(policy, code, catalogue)}”与填报的逝者情形不符")
    ordered = _in_catalogue_order(selected, catalogue)
    for code in ordered:
        message = _reach_problem(policy, code, channel, catalogue)
        if message is not None:
            reader.problem("matters", message)
    return tuple(ordered)


def _terminates(code: MatterCode, catalogue: Catalogue) -> bool:
    entry = catalogue.entry(code)
    return entry is not None and entry.stop is not None


def _reach_problem(policy: Policy, code: MatterCode, channel: Channel | None, catalogue: Catalogue) -> str | None:
    """Why the county cannot take ``code`` through ``channel``; None when it can."""
    try:
        matter = policy.matter(code)
    except KeyError:
        return f"本县暂未开通“{_short_name(policy, code, catalogue)}”事项"
    if channel is None or matter.department in policy.departments_for(channel):
        return None
    department = matter.department_name
    if channel is Channel.WINDOW:
        return f"{department}的“{matter.short_name}”事项本县窗口暂不受理"
    return (
        f"{department}的“{matter.short_name}”事项暂不支持{CHANNEL_LABELS[channel]}，"
        f"请到县政务大厅“一件事一次办”窗口办理"
    )


# --- cross-field checks: on whatever parsed, so one answer says as much as possible ---------------


def _birth(values: Mapping[str, object]) -> date | None:
    number = values.get("id_number")
    return id_birth_date(number) if isinstance(number, str) else None


def _check_people(
    reader: _Reader, deceased: Mapping[str, object], applicant: Mapping[str, object], today: date
) -> None:
    for path, label, values in (("deceased", "逝者", deceased), ("applicant", "申请人", applicant)):
        birth = _birth(values)
        if birth is not None and birth > today:
            reader.problem(f"{path}.id_number", f"{label}身份证号码中的出生日期晚于今天")
    deceased_id = deceased.get("id_number")
    if deceased_id is not None and deceased_id == applicant.get("id_number"):
        reader.problem("applicant.id_number", "申请人身份证号码与逝者相同，请核对")
    if applicant.get("relationship") is Relationship.NOT_FAMILY:
        reader.problem("applicant.relationship", "申请人须为逝者直系亲属或家属")


def _check_death(reader: _Reader, deceased: Mapping[str, object], policy: Policy, today: date) -> None:
    death_date = deceased.get("death_date")
    if isinstance(death_date, date):
        birth = _birth(deceased)
        if death_date > today:
            reader.problem("deceased.death_date", "死亡日期不能晚于今天")
        elif birth is not None and death_date < birth:
            reader.problem("deceased.death_date", "死亡日期不能早于逝者出生日期")
    county, area = policy.county, policy.insured_area
    places = (
        ("household_county", in_county, f"逝者户籍不在{county}", f"逝者户籍所在地“{{}}”不属于{county}"),
        ("insured_area", in_area, f"逝者参保地不在{area}", f"逝者参保地“{{}}”不是{county}{area}"),
        ("cremation_county", in_county, f"逝者未在{county}火化", f"火化地“{{}}”不在{county}"),
    )
    for key, inside, message, named in places:
        value = deceased.get(key)
        if isinstance(value, str) and not inside(value, policy):
            name = shown(value)
            reader.problem(f"deceased.{key}", f"{named.format(name) if name else message}，暂不纳入{_SCHEME}")
    if deceased.get("death_circumstance") is DeathCircumstance.CASE_RELATED:
        reader.problem("deceased.death_circumstance", f"案件类死亡不纳入{_SCHEME}")
    if deceased.get("work_injury") is True:
        reader.problem("deceased.work_injury", f"工伤死亡暂不纳入{_SCHEME}")


def _hukou_town(reader: _Reader, deceased: Mapping[str, object], policy: Policy) -> dict[str, str]:
    """The household's town (the form's ``household_town``, or the town ``household_county`` names) and its
    派出所, as the application records them; a town outside the county's list is refused by name."""
    written, county = deceased.get("household_town"), deceased.get("household_county")
    from_county = town(county, policy) if isinstance(county, str) else None
    found = from_county
    if isinstance(written, str):
        found = town(written, policy)
        if found is None:
            name = shown(written)
            what = f"逝者户籍所在乡镇“{name}”" if name else "逝者户籍所在乡镇"
            reader.problem("deceased.household_town", f"{what}不是{policy.county}的乡镇，请从本县乡镇中选择")
            return {}
        if from_county is not None and from_county.code != found.code:
            reader.problem("deceased.household_town", "逝者户籍所在乡镇与户籍所在地不一致，请核对")
            return {}
    if found is None:
        return {}
    station = police_station(found, policy)
    return {"household_town": found.name, **({"police_station": station.name} if station else {})}


def _certificate_problem(
    circumstance: object, death_date: object, issuer: CertificateIssuer, policy: Policy
) -> str | None:
    """Whether the right body signed the death certificate for this death (the county's rules)."""
    rules = policy.death_certificates
    if circumstance is DeathCircumstance.MEDICAL:
        if issuer not in rules.medical:
            return "在医疗机构或送医途中死亡的，死亡医学证明应由医疗机构出具"
    elif circumstance is DeathCircumstance.HOME and isinstance(death_date, date):
        allowed = rules.home_issuers(death_date)
        if issuer not in allowed:
            names = "、".join(ISSUER_LABELS[i] for i in CertificateIssuer if i in allowed)
            return f"该日期在家死亡的，死亡医学证明（推断）书应由{names}出具"
    return None


def _check_certificate(
    reader: _Reader, deceased: Mapping[str, object], certificate: Mapping[str, object], policy: Policy
) -> None:
    issuer = certificate.get("issuer_type")
    if isinstance(issuer, CertificateIssuer):
        message = _certificate_problem(deceased.get("death_circumstance"), deceased.get("death_date"), issuer, policy)
        if message is not None:
            reader.problem("death_certificate.issuer_type", message)


def _pays(matters: Sequence[MatterCode], policy: Policy, catalogue: Catalogue) -> bool:
    for code in matters:
        try:
            if policy.matter(code).pays_family:
                return True
        except KeyError:
            entry = catalogue.entry(code)
            if entry is not None and entry.pays_family:
                return True
    return False


def _may_pay(raw: object, matters: Sequence[MatterCode], situations_read: bool, policy: Policy,
             catalogue: Catalogue) -> bool:
    """Whether something the family applied for may pay: by the matters selected; when the situations did not read,
    by the matters listed (none listed: assume so, so the answer says everything at once)."""
    if situations_read:
        return _pays(matters, policy, catalogue)
    if not isinstance(raw, list):
        return True
    listed = [catalogue.entry(item.strip()) for item in raw if isinstance(item, str)]
    return _pays([MatterCode(e.code) for e in listed if e is not None], policy, catalogue)


def _check_account_number(reader: _Reader, account: dict[str, object]) -> None:
    """A card's number is 12–19 digits passing Luhn; a passbook's (存折/一折通) 8–30 digits, unchecked."""
    number, kind = account.get("card_number"), account.get("kind", AccountKind.CARD)
    if not isinstance(number, str):
        return
    path = "applicant.bank_account.card_number"
    if kind is AccountKind.PASSBOOK:
        if not passbook_valid(number):
            reader.problem(path, "存折（一折通）账号应为8至30位数字")
            account.pop("card_number")
        return
    if (message := _card_problem(number, "收款银行卡号")) is not None:
        reader.problem(path, message)
        account.pop("card_number")


def _check_payee(reader: _Reader, applicant: Mapping[str, object], account: Mapping[str, object]) -> None:
    """The money goes to the applicant; another account holder needs a recorded reason."""
    name, holder = applicant.get("name"), account.get("account_name")
    if isinstance(name, str) and isinstance(holder, str) and holder != name and not account.get("authorised_reason"):
        reader.problem("applicant.bank_account.account_name",
                       "收款账户户名须为申请人本人；确需由他人收款的，请填写委托收款原因并提交收款委托书")


def _check_materials(
    reader: _Reader, materials: list[dict[str, object]] | None, matters: Sequence[MatterCode], policy: Policy,
    authorised: bool, catalogue: Catalogue,
) -> None:
    """Every material the chosen matters need, missing ones listed together."""
    if materials is None:
        return
    present = {item.get("kind") for item in materials}
    needed: list[MaterialKind] = list(policy.base_materials)
    for code in matters:
        try:
            needed.extend(policy.matter(code).required_materials)
        except KeyError:
            continue
    if authorised:
        needed.append(MaterialKind.PAYEE_AUTHORISATION)
    labels = catalogue.material_labels()
    missing = [kind for kind in labels if kind in needed and kind not in present]
    if missing:
        reader.problem("materials", "缺少材料：" + "、".join(labels[kind] for kind in missing))


# --- the entry points --------------------------------------------------------------------------


def _read_materials(reader: _Reader, raw: object, catalogue: Catalogue) -> list[dict[str, object]] | None:
    """The material references, or None when any of them is wrong."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        reader.problem("materials", "材料清单应为列表")
        return None
    if len(raw) > MAX_MATERIALS:
        reader.problem("materials", f"材料不能超过{MAX_MATERIALS}份")
        return None
    materials: list[dict[str, object]] = []
    complete = True
    for index, item in enumerate(raw):
        path, spec = f"materials.{index}", _material_section(index, catalogue)
        if not isinstance(item, Mapping):
            reader.problem(path, f"{spec.label}格式不正确")
            complete = False
            continue
        section = reader.section(item, path, spec)
        complete = complete and section.complete
        materials.append(section.values)
    return materials if complete else None


def validate_application(
    raw: object, policy: Policy, today: date, catalogue: Catalogue | None = None
) -> Application | list[Problem]:
    """A valid ``Application``, or every problem with the form (一次告知). Never raises.

    ``catalogue`` (default: the process's) asks the situation questions and selects the matters."""
    catalogue = catalogue or active_catalogue()
    reader = _Reader()
    if not isinstance(raw, Mapping):
        reader.problem("", "申请表格式不正确，应为逐项填写的登记表")
        return reader.problems

    root = reader.section(raw, "", _ROOT)
    deceased_data, deceased = reader.subsection(raw, "deceased", _DECEASED)
    _, certificate = reader.subsection(raw, "death_certificate", _DEATH_CERTIFICATE)
    applicant_data, applicant = reader.subsection(raw, "applicant", _APPLICANT)
    account_path = "applicant.bank_account"
    account_data = (reader.mapping(applicant_data, "bank_account", account_path, _BANK_ACCOUNT)
                    if applicant_data is not None else None)
    if isinstance(account_data, Mapping) and account_data.get("kind") == AccountKind.NONE.value:
        account_data = {}  # an accepted form read back: it had no account
    _, situations = reader.subsection(raw, "situations", _situations_spec(catalogue))
    materials = _read_materials(reader, raw.get("materials"), catalogue)

    _check_people(reader, deceased.values, applicant.values, today)
    _check_death(reader, deceased.values, policy, today)
    hukou = _hukou_town(reader, deceased.values, policy)
    _check_certificate(reader, deceased.values, certificate.values, policy)

    channel = root.values.get("channel")
    matters = _select_matters(
        reader,
        raw.get("matters"),
        Situations.model_validate(situations.values) if situations.complete else None,
        channel if isinstance(channel, Channel) else None,
        policy,
        catalogue,
    )

    # A bank account only when something will be paid (or the family gave one anyway).
    pays = _may_pay(raw.get("matters"), matters, situations.complete, policy, catalogue)
    account_values: dict[str, object] | None = None
    account_given = isinstance(account_data, Mapping) and bool(set(account_data) - {"kind"})
    if pays or account_given or account_data is None:
        account = reader.section(account_data, account_path, _BANK_ACCOUNT)
        _check_account_number(reader, account.values)
        _check_payee(reader, applicant.values, account.values)
        account_values = account.values
    if pays and deceased_data is not None and deceased_data.get("bank_card") in (None, ""):
        reader.problem("deceased.bank_card", "请填写逝者银行卡号")
    deceased_values = {**{k: v for k, v in deceased.values.items() if v is not None and k != "police_station"},
                       **hukou}

    _check_materials(reader, materials, matters, policy,
                     bool(account_values and account_values.get("authorised_reason")), catalogue)
    if reader.problems:
        return _in_form_order(reader.problems)
    try:
        return Application.model_validate(
            {
                "channel": channel,
                "deceased": deceased_values,
                "death_certificate": certificate.values,
                "applicant": {**applicant.values,
                              "bank_account": account_values if account_values else BankAccount.none()},
                "situations": situations.values,
                "matters": matters,
                "materials": materials,
            }
        )
    except ValidationError:  # pragma: no cover - every field was checked above
        return [Problem(field="", message="申请表无法识别，请核对后重新提交")]


def _in_form_order(problems: Sequence[Problem]) -> list[Problem]:
    """Problems in the order of the form's sections and fields; otherwise in the order found."""

    def rank(problem: Problem) -> tuple[int, int]:
        top = problem.field.split(".", 1)[0]
        section = _SECTION_ORDER.index(top) if top in _SECTION_ORDER else len(_SECTION_ORDER)
        return section, _FIELD_ORDER.get(problem.field, len(_FIELD_ORDER))

    return sorted(problems, key=rank)


def format_problems(problems: Sequence[Problem]) -> str:
    """The numbered Chinese list told to the family; empty when there is nothing to tell."""
    if not problems:
        return ""
    lines = [PROBLEMS_HEADER]
    lines.extend(f"{number}. {problem.message}" for number, problem in enumerate(problems, 1))
    return "\n".join(lines)
