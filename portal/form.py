"""The online registration form: the same fields as the window's form, as inputs on a page.

Input names are the form's field paths (``deceased.name``), so intake's problems land beside their input.
What was typed is turned into the raw form intake checks (``client.intake.check``), with ``channel:
online``; empty inputs are left out, so intake says “请填写…” for each one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from domain import places
from domain.application import (
    ACCOUNT_KIND_LABELS,
    DEATH_CIRCUMSTANCE_LABELS,
    ISSUER_LABELS,
    RELATIONSHIP_LABELS,
    UNKNOWN_LABEL,
)
from domain.catalogue import MatterDefinition, Question, active_catalogue
from domain.enums import UNKNOWN_ANSWER, Channel, MaterialKind, MatterCode
from domain.models import Problem
from domain.policy import Policy
from portal.signin import Person

TEXT, DATE, TEL, NUMBER, SELECT, CHECK = "text", "date", "tel", "numeric", "select", "check"


@dataclass(frozen=True)
class Input:
    name: str
    label: str
    kind: str = TEXT
    choices: tuple[tuple[str, str], ...] = ()
    hint: str = ""
    required: bool = True
    default: str = ""
    autocomplete: str = "off"


@dataclass(frozen=True)
class Section:
    title: str
    inputs: tuple[Input, ...]
    note: str = ""


def _choices(labels: Mapping[Any, str]) -> tuple[tuple[str, str], ...]:
    return tuple((str(getattr(key, "value", key)), text) for key, text in labels.items())


def _place(name: str, label: str, choices: tuple[tuple[str, str], ...], default: str, hint: str = "") -> Input:
    """A place as the county lists it (domain/places.py): a list to choose from; free text where none is set."""
    if not choices:
        return Input(name, label, default=default, hint=hint)
    return Input(name, label, SELECT, choices, default=choices[0][0] if len(choices) == 1 else default, hint=hint)


def sections(policy: Policy) -> tuple[Section, ...]:
    lists = places.choices(policy)
    return (
        Section("逝者信息", (
            Input("deceased.name", "逝者姓名"),
            Input("deceased.id_number", "逝者身份证号码", hint="18位，末位可为X"),
            _place("deceased.household_county", "户籍所在县", ((policy.county, policy.county),), policy.county),
            *((_place("deceased.household_town", "户籍所在乡镇", lists["towns"], "",
                      hint="户口注销由户籍所在地派出所办理"),) if lists["towns"] else ()),
            _place("deceased.insured_area", "参保地", lists["insured_areas"], policy.insured_area),
            Input("deceased.death_date", "死亡日期", DATE),
            Input("deceased.death_circumstance", "死亡情形", SELECT, _choices(DEATH_CIRCUMSTANCE_LABELS)),
            Input("deceased.work_injury", "因工死亡（工伤）", CHECK, required=False),
            _place("deceased.cremation_county", "火化地（殡仪馆）", lists["funeral_homes"], policy.county),
        )),
        Section("死亡医学证明", (
            Input("death_certificate.number", "证明编号"),
            Input("death_certificate.issuer_type", "出具单位类型", SELECT, _choices(ISSUER_LABELS),
                  hint="医疗机构内死亡选“医疗机构”；在家死亡选乡镇卫生院或社区卫生服务中心；"
                       "医养结合养老机构内死亡可选其内设医疗机构"),
            Input("death_certificate.issuer_name", "出具单位名称"),
        )),
        Section("申请人（逝者家属）", (
            Input("applicant.name", "申请人姓名", autocomplete="name"),
            Input("applicant.id_number", "申请人身份证号码"),
            Input("applicant.relationship", "与逝者关系", SELECT, _choices(RELATIONSHIP_LABELS)),
            Input("applicant.phone", "手机号码", TEL, hint="办理进度将以短信告知", autocomplete="tel"),
        )),
        *((_money_section(),) if any(m.pays_family for m in online_matters(policy)) else ()),
        Section("逝者情形", tuple(_question(q) for q in active_catalogue().offered_questions()),
                note="逝者情形决定可以申请哪些事项。"),
    )


def _money_section() -> Section:
    return Section("银行账户", (
        Input("deceased.bank_card", "逝者银行卡号", NUMBER, required=False),
        Input("applicant.bank_account.kind", "收款账户类型", SELECT, _choices(ACCOUNT_KIND_LABELS), required=False,
              default="card", hint="存折（一折通）填写存折账号"),
        Input("applicant.bank_account.bank_name", "收款开户银行", required=False, hint="如：中国农业银行固阳县支行"),
        Input("applicant.bank_account.account_name", "收款账户户名", required=False, hint="应为申请人本人"),
        Input("applicant.bank_account.card_number", "收款银行卡号或存折账号", NUMBER, required=False),
        Input("applicant.bank_account.authorised_reason", "委托他人收款的原因", required=False,
              hint="仅当户名不是申请人本人时填写，并上传收款委托书"),
    ), note="仅申请发放款项的事项（如丧葬补助金、个人账户余额）时填写；只办理注销、终止类事项的无需填写。")


# A benefit the deceased may have drawn: 不清楚 runs its termination all the same (domain/catalogue.py).
DREW_CHOICES = (("false", "否"), ("true", "是"), (UNKNOWN_ANSWER, UNKNOWN_LABEL))


def _question(question: Question) -> Input:
    """One question of the catalogue (domain/catalogue.py): a checkbox, yes/no/不清楚, or a list to choose from."""
    label = question.prompt or question.label
    if question.unknown_allowed:
        return Input(f"situations.{question.code}", label, SELECT, DREW_CHOICES, default="false")
    if question.kind == "bool":
        return Input(f"situations.{question.code}", label, CHECK, required=False)
    return Input(f"situations.{question.code}", label, SELECT, tuple((c.value, c.label) for c in question.choices),
                 default=question.default or "")


def all_inputs(policy: Policy) -> Iterable[Input]:
    for section in sections(policy):
        yield from section.inputs


# --- matters -----------------------------------------------------------------------------------


def online_matters(policy: Policy) -> list[MatterDefinition]:
    """The matters families may choose online (户口注销 is always done and not chosen)."""
    reach = policy.departments_for(Channel.ONLINE)
    return [m for m in policy.matters if m.department in reach and m.code is not MatterCode.HUKOU_CANCELLATION]


def window_matters(policy: Policy) -> list[MatterDefinition]:
    """The matters only the window takes."""
    reach = policy.departments_for(Channel.ONLINE)
    return [m for m in policy.matters if m.department not in reach]


def window_only(policy: Policy, code: str) -> MatterDefinition | None:
    return next((m for m in window_matters(policy) if m.code.value == code), None)


# --- materials ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaterialSlot:
    kind: MaterialKind
    label: str
    need: str


def material_slots(policy: Policy) -> list[MaterialSlot]:
    base = set(policy.base_materials)
    paying = {kind for m in policy.matters for kind in m.required_materials}
    slots = []
    labels = active_catalogue().material_labels()
    for kind in labels:
        if kind in base:
            need = "必交"
        elif kind in paying:
            need = "申领待遇时必交"
        elif kind is MaterialKind.PAYEE_AUTHORISATION:
            need = "委托他人收款时必交"
        else:
            need = "如有请上传"
        slots.append(MaterialSlot(kind=kind, label=labels[kind], need=need))
    return slots


# --- from what was typed to the raw form -------------------------------------------------------


@dataclass
class Typed:
    """What the family typed and chose, kept to show the form again."""

    values: dict[str, str] = field(default_factory=dict)
    checked: set[str] = field(default_factory=set)
    matters: list[str] = field(default_factory=list)


# The applicant's inputs the signed-in person's verified identity fills: shown, not editable, and what a
# browser sends for them is not used.
APPLICANT_FIXED = ("applicant.name", "applicant.id_number")


def fill_applicant(typed: Typed, person: Person) -> None:
    typed.values["applicant.name"] = person.name
    typed.values["applicant.id_number"] = person.id_number


def read_typed(fields: Mapping[str, str], checks: Iterable[str], matters: Sequence[str], policy: Policy) -> Typed:
    return _read(all_inputs(policy), fields, checks, matters)


def _read(inputs: Iterable[Input], fields: Mapping[str, str], checks: Iterable[str], matters: Sequence[str]) -> Typed:
    """What a page's form sent for ``inputs``: each text and choice as typed, each ticked box, the matters."""
    typed = Typed()
    ticked = set(checks)
    for spec in inputs:
        if spec.kind == CHECK:
            if spec.name in ticked:
                typed.checked.add(spec.name)
        else:
            typed.values[spec.name] = fields.get(spec.name, "")
    typed.matters = list(dict.fromkeys(matters))
    return typed


def raw_form(typed: Typed, materials: Sequence[tuple[MaterialKind, str]], policy: Policy) -> dict[str, Any]:
    """The raw form intake checks; ``materials`` pairs each kind with its file's name in the staging folder."""
    form: dict[str, Any] = {"channel": Channel.ONLINE.value}
    for spec in all_inputs(policy):
        if spec.kind == CHECK:
            _put(form, spec.name, spec.name in typed.checked)
            continue
        value = typed.values.get(spec.name, "").strip()
        if value:
            _put(form, spec.name, value)
    form["matters"] = list(typed.matters)
    if not _pays(typed.matters, policy):
        # Nothing chosen pays: no account is asked for, and whatever was typed there is not sent.
        form.get("deceased", {}).pop("bank_card", None)
        form.get("applicant", {}).pop("bank_account", None)
    form["materials"] = [{"kind": kind.value, "file": name} for kind, name in materials]
    return form


def _pays(codes: Sequence[str], policy: Policy) -> bool:
    return any(m.pays_family for m in policy.matters if m.code.value in codes)


def _put(form: dict[str, Any], path: str, value: object) -> None:
    *parents, last = path.split(".")
    target = form
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = value


# --- problems beside their inputs --------------------------------------------------------------


def place_problems(problems: Sequence[Problem], materials: Sequence[tuple[MaterialKind, str]]) -> dict[str, list[str]]:
    """Each problem under the input it concerns: a field path, ``matters``, ``material.<kind>`` or ``form``."""
    placed: dict[str, list[str]] = {}
    for problem in problems:
        placed.setdefault(_anchor(problem.field, materials), []).append(problem.message)
    return placed


def _anchor(path: str, materials: Sequence[tuple[MaterialKind, str]]) -> str:
    if path.startswith("materials."):
        index = path.split(".")[1]
        if index.isdigit() and int(index) < len(materials):
            return f"material.{materials[int(index)][0].value}"
        return "materials"
    if path.startswith("matters"):
        return "matters"
    if path.startswith("material."):
        return path
    return path or "form"


# --- matters added to an online case -------------------------------------------------------------


def situation_inputs() -> tuple[Input, ...]:
    """The situation questions as the apply page asks them."""
    return tuple(_question(q) for q in active_catalogue().offered_questions())


def typed_situations(situations: Mapping[str, object]) -> Typed:
    """The case's answers (``Situations`` as JSON) as the inputs show them, for the addition page to start from."""
    typed = Typed()
    for spec in situation_inputs():
        value = situations.get(spec.name.removeprefix("situations."))
        if spec.kind == CHECK:
            if value is True:
                typed.checked.add(spec.name)
        elif isinstance(value, bool):
            typed.values[spec.name] = "true" if value else "false"
        elif value is not None:
            typed.values[spec.name] = str(value)
    return typed


def payee_inputs() -> tuple[Input, ...]:
    """The apply page's 银行账户 inputs: an addition that brings a case without an account its first paying matter
    brings the account (and the deceased's card) with it."""
    return _money_section().inputs


def read_addition(fields: Mapping[str, str], checks: Iterable[str], matters: Sequence[str], *,
                  with_payee: bool = False) -> Typed:
    return _read((*situation_inputs(), *(payee_inputs() if with_payee else ())), fields, checks, matters)


# The apply page's names of the payee account's inputs.
_ACCOUNT = "applicant.bank_account."


def addition_form(typed: Typed, materials: Sequence[tuple[MaterialKind, str]]) -> dict[str, Any]:
    """The raw addition form (domain/addition.py) with ``channel: online``: the answers as typed (an empty one is
    left out, so the case's answer stands), the chosen matters and the staged scans."""
    situations: dict[str, Any] = {}
    for spec in situation_inputs():
        code = spec.name.removeprefix("situations.")
        if spec.kind == CHECK:
            situations[code] = spec.name in typed.checked
        elif value := typed.values.get(spec.name, "").strip():
            situations[code] = value
    form: dict[str, Any] = {"channel": Channel.ONLINE.value, "matters": list(typed.matters), "situations": situations,
                            "materials": [{"kind": kind.value, "file": name} for kind, name in materials]}
    # An account only when one was typed (its kind alone, preselected, is none).
    account = {key.removeprefix(_ACCOUNT): value.strip() for key, value in typed.values.items()
               if key.startswith(_ACCOUNT) and value.strip()}
    if set(account) - {"kind"}:
        form["bank_account"] = account
    if card := typed.values.get("deceased.bank_card", "").strip():
        form["deceased_bank_card"] = card
    return form

