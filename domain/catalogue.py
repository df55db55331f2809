"""The catalogue: departments, matters, the form's questions that select them, and materials, as data.

The packaged default is ``domain/catalogue.yaml``; a county names its own in ``SHENHOU_CATALOGUE_FILE``
(docs/catalogue.md). ``Catalogue`` is the file's schema (``shenhou catalogue schema`` prints it as JSON Schema);
``load_catalogue`` reads a file and lists every problem at once, one Chinese line each (``CatalogueError``).
The worker, the CLI and the portal load it at start and make it the process's catalogue (``use_catalogue``);
what a case runs by is copied into its history when it starts (``MatterDefinition`` inside the county policy),
so a new catalogue never changes a running case.

A county changes time limits and amount caps through the policy file too (``domain.policy``); the codes are
stable identifiers.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from domain.enums import (
    UNKNOWN_ANSWER,
    Channel,
    Department,
    MaterialKind,
    MatterCode,
    PensionStatus,
    Personal,
    Relationship,
    StopFrom,
)

DEFAULT_FILE = Path(__file__).with_name("catalogue.yaml")
# 户口注销 is the gate every case passes first (workflows/case.py): a catalogue must have it, always selected.
GATE = MatterCode.HUKOU_CANCELLATION

# As domain/enums.py accepts them (the register's columns bound a department code to 16 characters, a matter
# code to 64).
Code = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
DepartmentCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,15}$")]
MatterCodeText = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,15}\.[a-z][a-z0-9_]{0,46}$")]
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


# The key of the supervising department's name in ``Policy.catalogue_labels``.
SUPERVISOR_LABEL = "departments.supervisor"


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DepartmentEntry(_Entry):
    code: DepartmentCode
    name: Label
    # The identity provider's role (group) whose officers decide this department's matters (runtime/officers.py).
    officer_role: Label
    # The county's supervising bureau (督办): it handles no matter. Exactly one department is.
    supervisor: bool = False
    # The channels through which the county takes its matters (the policy file's channel_departments may
    # change them).
    channels: tuple[Channel, ...] = (Channel.WINDOW,)
    # The personal data its officers see in clear in the Web UI (runtime/read_scope.py); unset: the identities,
    # and who is paid and where when one of its matters pays the family. The family's phone is no department's.
    reads: tuple[Personal, ...] | None = None


class Choice(_Entry):
    value: Code
    label: Label


class Question(_Entry):
    """One question of the form's 逝者情形 section."""

    code: Code
    # How intake's problems name it ("请填写养老保险情况").
    label: Label
    # The portal's words beside its input; None: ``label``.
    prompt: Label | None = None
    kind: Literal["bool", "choice"]
    choices: tuple[Choice, ...] = ()
    # A choice question's answer when the form leaves it out (a yes/no question's is always false).
    default: str | None = None
    # A yes/no question about a benefit the deceased drew may be answered "不清楚" (``unknown``): the terminations
    # it selects then run all the same, and the department may find 无该待遇.
    unknown_allowed: bool = False


class Selection(_Entry):
    """The answer that selects a matter: ``answer`` true for a yes/no question, a choice's value otherwise."""

    question: Code
    answer: bool | str = True


class Stop(_Entry):
    """A termination: the benefit stops by this rule (DOMAIN.md §5), shown with the matter; what was paid after
    the stop date is 多领. A termination is never left out: the form's yes or 不清楚 runs it."""

    stops_from: StopFrom


class Claim(_Entry):
    """An entitlement that lapses: it must be claimed within so many months of the death. A family whose
    application shows the entitlement and has not claimed it is reminded so many working days before the
    window closes, once per rung (notify/lapses.py)."""

    within_months: Annotated[int, Field(ge=1, le=120)]
    remind_working_days_before: Annotated[tuple[Annotated[int, Field(ge=1, le=250)], ...],
                                          Field(min_length=1, max_length=5)] = (20, 5)
    # Taken from public sources, not yet confirmed by the county.
    default: bool = False


class Payees(_Entry):
    """Who may receive the money a matter pays (DOMAIN.md §9): these relationships on the household register
    alone; anyone else once the window records one of ``proofs`` (before any payment instruction)."""

    entitled: tuple[Relationship, ...] = (Relationship.SPOUSE, Relationship.CHILD, Relationship.PARENT)
    proofs: Annotated[tuple[Code, ...], Field(min_length=1)] = ("relationship_proof", "succession_notarisation")


class MatterEntry(_Entry):
    code: MatterCodeText
    department: DepartmentCode
    name: Label
    short_name: Label
    pays_family: bool
    time_limit_working_days: Annotated[int, Field(ge=1, le=365)]
    max_amount: Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=2)] | None = None
    # Beyond the base materials; checked at intake and listed with every other problem (一次告知).
    required_materials: tuple[Code, ...] = ()
    # None: every case runs it (only the gate, 户口注销).
    selected_by: Selection | None = None
    # False: the county does not offer it (the form leaves it out, intake refuses it by name).
    enabled: bool = True
    # Set for a termination: when the benefit stops.
    stop: Stop | None = None
    # Who may be paid, when this matter's rule differs from the catalogue's ``payees``.
    payees: Payees | None = None
    # The claim window of an entitlement that lapses.
    claim: Claim | None = None


class Place(_Entry):
    """A place of the county's lists: a stable code, the official name, and the other ways people write it."""

    code: Code
    name: Label
    variants: tuple[Label, ...] = ()
    # Taken from public sources, not yet confirmed by the county (the packaged file marks every entry so).
    default: bool = False

    def names(self) -> tuple[str, ...]:
        return (self.name, *self.variants)


class Town(Place):
    """A town (乡镇) of the county."""

    # The county seat (县城驻地).
    seat: bool = False
    # The 派出所 (``police_stations[].code``) that keeps the household register of people registered here.
    police_station: Code | None = None


class CentralArea(Place):
    """The county's 中心城区: where the deceased must have been insured. ``towns``: the towns it covers (the county
    seat), each of which is accepted as the insured area too."""

    towns: tuple[Code, ...] = ()


class Places(_Entry):
    """The county's places as it defines them: intake refuses anything outside them by name, the portal offers
    them as choices. Empty lists: not configured (county-level names only)."""

    # Whose lists these are: they apply only while the policy's ``county`` is this one.
    county: Label = "固阳县"
    county_variants: tuple[Label, ...] = ()
    towns: tuple[Town, ...] = ()
    central_area: CentralArea | None = None
    funeral_homes: tuple[Place, ...] = ()
    police_stations: tuple[Place, ...] = ()

    def town(self, code: str) -> Town | None:
        return next((t for t in self.towns if t.code == code), None)

    def police_station(self, code: str) -> Place | None:
        return next((p for p in self.police_stations if p.code == code), None)


class Catalogue(_Entry):
    """The catalogue file's schema."""

    # Names this catalogue in every case that starts under it (the county policy in the case's history).
    version: Label
    departments: Annotated[tuple[DepartmentEntry, ...], Field(min_length=1)]
    questions: tuple[Question, ...] = ()
    # Material code: the label families and officers read.
    materials: dict[Code, Label]
    base_materials: tuple[Code, ...] = ()
    # In the order the form offers them.
    matters: Annotated[tuple[MatterEntry, ...], Field(min_length=1)]
    # The county's towns, 中心城区, funeral homes and 派出所 (domain/places.py reads them).
    places: Places = Places()
    # Who may receive the money of a matter that pays (a matter's own ``payees`` overrides it).
    payees: Payees = Payees()

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        problems = _cross_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # --- what the rest of the system reads -------------------------------------------------------------

    def department(self, code: str) -> DepartmentEntry | None:
        return next((d for d in self.departments if d.code == code), None)

    def question(self, code: str) -> Question | None:
        return next((q for q in self.questions if q.code == code), None)

    def entry(self, code: str) -> MatterEntry | None:
        return next((m for m in self.matters if m.code == code), None)

    def enabled(self) -> tuple[MatterEntry, ...]:
        return tuple(m for m in self.matters if m.enabled)

    def definitions(self) -> tuple[MatterDefinition, ...]:
        """The enabled matters as a case runs them (copied into its history when it starts)."""
        return tuple(self.definition(m.code) for m in self.enabled())

    def definition(self, code: str) -> MatterDefinition:
        entry = self.entry(code)
        if entry is None:
            raise KeyError(code)
        department = self.department(entry.department)
        assert department is not None
        payees = entry.payees or self.payees
        return MatterDefinition(
            code=MatterCode(entry.code), department=Department(entry.department), department_name=department.name,
            name=entry.name, short_name=entry.short_name, pays_family=entry.pays_family,
            time_limit_working_days=entry.time_limit_working_days, max_amount=entry.max_amount,
            required_materials=tuple(MaterialKind(k) for k in entry.required_materials),
            stops_from=entry.stop.stops_from if entry.stop else None,
            entitled_payees=payees.entitled if entry.pays_family else None,
            payee_proofs=tuple(MaterialKind(k) for k in payees.proofs) if entry.pays_family else (),
        )

    def department_names(self) -> dict[Department, str]:
        return {Department(d.code): d.name for d in self.departments}

    def officer_roles(self) -> dict[str, Department]:
        """The identity provider's role of each department's officers, to the department."""
        return {d.officer_role: Department(d.code) for d in self.departments if not d.supervisor}

    def supervisor(self) -> DepartmentEntry:
        return next(d for d in self.departments if d.supervisor)

    def material_labels(self) -> dict[MaterialKind, str]:
        return {MaterialKind(code): label for code, label in self.materials.items()}

    def base_material_kinds(self) -> tuple[MaterialKind, ...]:
        return tuple(MaterialKind(code) for code in self.base_materials)

    def channel_departments(self) -> dict[Channel, frozenset[Department]]:
        """Per channel, the departments that take matters through it (the policy file may change it)."""
        return {
            channel: frozenset(Department(d.code) for d in self.departments if channel in d.channels)
            for channel in Channel
        }

    def matter_departments(self) -> tuple[Department, ...]:
        """Departments that handle an enabled matter, in catalogue order."""
        seen = dict.fromkeys(Department(m.department) for m in self.enabled())
        return tuple(seen)

    def offered_questions(self) -> tuple[Question, ...]:
        """The questions that select an enabled matter: the ones the form asks."""
        used = {m.selected_by.question for m in self.enabled() if m.selected_by is not None}
        return tuple(q for q in self.questions if q.code in used)

    def selected(self, answers: Mapping[str, object]) -> list[MatterCode]:
        """Every enabled matter the answers select, the gate first, then in catalogue order."""
        codes = [MatterCode(m.code) for m in self.enabled() if m.selected_by is None
                 or _selects(m, _answer(self.question(m.selected_by.question), answers))]
        return sorted(codes, key=lambda code: code != GATE)

    def added_labels(self) -> dict[str, str]:
        """The names of the questions (their answers) and materials this catalogue adds to the packaged default's,
        as ``situations.<code>[.<answer>]`` and ``materials.<code>``, and the supervising department's name when
        it differs (``departments.supervisor``): a case carries them for the officer's brief and the ladder."""
        default = default_catalogue()
        labels: dict[str, str] = {}
        for question in self.questions:
            if default.question(question.code) is None:
                labels[f"situations.{question.code}"] = question.prompt or question.label
                labels.update({f"situations.{question.code}.{c.value}": c.label for c in question.choices})
        labels.update({f"materials.{code}": label for code, label in self.materials.items()
                       if code not in default.materials})
        if self.supervisor().name != default.supervisor().name:
            labels[SUPERVISOR_LABEL] = self.supervisor().name
        return labels

    def order(self) -> dict[MatterCode, int]:
        return {MatterCode(m.code): index for index, m in enumerate(self.matters)}


def _selects(entry: MatterEntry, answer: object) -> bool:
    """Whether ``answer`` selects the matter: its own answer, or, for a termination, 不清楚 too."""
    assert entry.selected_by is not None
    return answer == entry.selected_by.answer or (entry.stop is not None and answer == UNKNOWN_ANSWER)


def _answer(question: Question | None, answers: Mapping[str, object]) -> object:
    if question is None:
        return None
    value = answers.get(question.code)
    if value is None:
        return False if question.kind == "bool" else question.default
    return value.value if isinstance(value, PensionStatus) else value


class MatterDefinition(BaseModel):
    """One matter as a case runs it: copied from the catalogue into the case's history when the case starts."""

    model_config = ConfigDict(frozen=True)

    code: MatterCode
    department: Department
    # Cases started before the catalogue became a file carry none: the default catalogue's name is read.
    department_name: str = ""
    name: str
    short_name: str
    pays_family: bool
    time_limit_working_days: int
    max_amount: Decimal | None = None
    # Beyond BASE_MATERIALS; checked at intake and listed with every other problem (一次告知).
    required_materials: tuple[MaterialKind, ...] = ()
    # A termination's rule for its stop date (None: not a termination, or a case started before the rule).
    stops_from: StopFrom | None = None
    # Who the money may go to without a recorded proof, and the proofs that let anyone else be paid. None: a
    # case started before the rule (anyone the window accepted), or a matter that pays nothing.
    entitled_payees: tuple[Relationship, ...] | None = None
    payee_proofs: tuple[MaterialKind, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _named(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("department_name") and "department" in data:
            name = DEPARTMENT_NAMES.get(Department(data["department"]))
            if name is not None:
                data = {**data, "department_name": name}
        return data


# --- loading and checking --------------------------------------------------------------------------------


class CatalogueError(Exception):
    """The catalogue file cannot be used: ``problems`` holds one Chinese line per problem, all of them."""

    def __init__(self, path: Path | None, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        head = f"目录文件{path}有误：" if path is not None else "目录有误："
        super().__init__(head + "\n" + "\n".join(problems))


def load_catalogue(path: Path | None = None) -> Catalogue:
    """The catalogue in ``path`` (YAML, or JSON by its suffix); None: the packaged default."""
    source = path or DEFAULT_FILE
    try:
        text = source.read_text(encoding="utf-8")
        data: Any = json.loads(text) if source.suffix == ".json" else yaml.safe_load(text)
    except OSError as err:
        raise CatalogueError(path, [f"无法读取：{err.strerror or type(err).__name__}"]) from err
    except (ValueError, yaml.YAMLError) as err:
        raise CatalogueError(path, [f"格式不正确（应为YAML或JSON）：{_reading_problem(err)}"]) from err
    return catalogue_from(data, path)


def catalogue_from(data: Any, path: Path | None = None) -> Catalogue:
    if not isinstance(data, dict):
        raise CatalogueError(path, ["目录应为一个映射（version、departments、matters……）"])
    try:
        return Catalogue.model_validate(data)
    except ValidationError as err:
        problems = _problems(err, data)
        if not any(item["type"] == "value_error" and not item["loc"] for item in err.errors()):
            # The checks between entries did not run: run them on what there is, so one answer says it all.
            problems += [line for line in _partial_cross_problems(data) if line not in problems]
        raise CatalogueError(path, problems) from err


def _partial_cross_problems(data: Mapping[str, Any]) -> list[str]:
    """The checks between entries over a file the schema refused: each entry as far as it reads (an entry
    the schema refused still defines its code, so nothing is reported twice); best effort."""

    refused: set[str] = set()

    def entries(key: str, model: type[_Entry]) -> tuple[Any, ...]:
        raw = data.get(key)
        found: list[Any] = []
        for item in raw if isinstance(raw, list) else []:
            if not isinstance(item, dict):
                continue
            try:
                found.append(model.model_validate(item))
            except ValidationError:
                # Refused already: stands in by its code only, so nothing refers to it in vain.
                if isinstance(item.get("code"), str):
                    refused.add(item["code"])
                    kept = {k: v for k, v in item.items() if k == "code" or (k == "supervisor" and v is True)}
                    found.append(model.model_construct(**kept))
        return tuple(found)

    materials = data.get("materials")
    base = data.get("base_materials")
    partial = Catalogue.model_construct(
        version=str(data.get("version", "")),
        departments=entries("departments", DepartmentEntry),
        questions=entries("questions", Question),
        materials={str(k): str(v) for k, v in materials.items()} if isinstance(materials, dict) else {},
        base_materials=tuple(str(code) for code in base) if isinstance(base, list) else (),
        matters=entries("matters", MatterEntry),
    )
    try:
        return _cross_problems(partial, refused)
    except (AttributeError, TypeError, ValueError):
        return []


def _reading_problem(err: Exception) -> str:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        return f"第{err.problem_mark.line + 1}行第{err.problem_mark.column + 1}列"
    if isinstance(err, json.JSONDecodeError):
        return f"第{err.lineno}行第{err.colno}列"
    return type(err).__name__


_SECTIONS = {"departments": "部门", "questions": "问题", "matters": "事项"}
_MESSAGES = {
    "missing": "缺少必填项",
    "extra_forbidden": "无法识别的字段",
    "string_pattern_mismatch": ("代码格式不正确（小写字母开头，仅含小写字母、数字、下划线；"
                                "部门代码至多16字符，事项代码为“部门代码.名称”至多64字符）"),
    "string_too_short": "不能为空",
    "string_too_long": "过长",
    "greater_than_equal": "取值过小",
    "greater_than": "取值过小",
    "less_than_equal": "取值过大",
    "bool_type": "应填写true或false",
    "bool_parsing": "应填写true或false",
    "int_type": "应为整数",
    "int_parsing": "应为整数",
    "decimal_parsing": "应为金额（如\"1000000.00\"）",
    "decimal_max_places": "金额最多两位小数",
    "literal_error": "取值无效，可选：bool、choice",
    "too_short": "不能为空",
}


def _problems(err: ValidationError, data: Mapping[str, Any]) -> list[str]:
    """One Chinese line per problem, naming the entry by its code where it has one."""
    lines: list[str] = []
    for item in err.errors(include_url=False):
        loc = item["loc"]
        if item["type"] == "value_error" and not loc:
            lines.extend(str(item["ctx"]["error"]).splitlines())
            continue
        if item["type"] == "enum":
            # The choices the enum allows, as pydantic lists them ("'a', 'b' or 'c'").
            allowed = "、".join(re.findall(r"'([^']*)'", str(item.get("ctx", {}).get("expected", ""))))
            lines.append(f"{_where(loc, data)}取值无效，可选：{allowed}")
            continue
        lines.append(f"{_where(loc, data)}{_MESSAGES.get(item['type'], '取值无效')}")
    return lines


def _where(loc: tuple[int | str, ...], data: Mapping[str, Any]) -> str:
    if not loc:
        return ""
    section, rest = str(loc[0]), loc[1:]
    label = _SECTIONS.get(section)
    if label is not None and rest and isinstance(rest[0], int):
        entries = data.get(section)
        entry = entries[rest[0]] if isinstance(entries, list) and rest[0] < len(entries) else None
        code = entry.get("code") if isinstance(entry, dict) else None
        who = f"{label}“{code}”" if isinstance(code, str) else f"第{rest[0] + 1}个{label}"
        field = ".".join(str(part) for part in rest[1:])
        return f"{who}：{field + '：' if field else ''}"
    return f"{'.'.join(str(part) for part in loc)}："


def _cross_problems(catalogue: Catalogue, refused: set[str] | frozenset[str] = frozenset()) -> list[str]:
    """What the schema alone cannot see: references between entries, duplicates, the gate. ``refused``: codes of
    entries the schema refused (only their codes are known: they are not checked again)."""
    problems: list[str] = []
    departments = {d.code: d for d in catalogue.departments}
    questions = {q.code: q for q in catalogue.questions}
    for label, codes in (("部门", [d.code for d in catalogue.departments]),
                         ("问题", [q.code for q in catalogue.questions]),
                         ("事项", [m.code for m in catalogue.matters])):
        for code in sorted({c for c in codes if codes.count(c) > 1}):
            problems.append(f"{label}“{code}”：代码重复")
    supervisors = [d.code for d in catalogue.departments if d.supervisor]
    if len(supervisors) != 1:
        problems.append("目录须有且只有一个督办部门（supervisor: true）")
    for question in catalogue.questions:
        if question.code in refused:
            continue
        values = [c.value for c in question.choices]
        if question.kind == "choice" and not values:
            problems.append(f"问题“{question.code}”：选择题须列出choices")
        if question.kind == "bool" and (values or question.default is not None):
            problems.append(f"问题“{question.code}”：是否题不设choices和default")
        if question.kind == "choice" and question.unknown_allowed:
            problems.append(f"问题“{question.code}”：“不清楚”（unknown_allowed）只用于是否题")
        if question.kind == "choice" and question.default is not None and question.default not in values:
            problems.append(f"问题“{question.code}”：默认答案“{question.default}”不在choices中")
    for where, payees in (("收款人规则（payees）", catalogue.payees),
                          *((f"事项“{m.code}”：收款人规则", m.payees) for m in catalogue.matters if m.payees)):
        for kind in payees.proofs:
            if kind not in catalogue.materials:
                problems.append(f"{where}的证明材料“{kind}”未在materials中定义")
    for code in catalogue.base_materials:
        if code not in catalogue.materials:
            problems.append(f"基本材料“{code}”未在materials中定义")
    for matter in catalogue.matters:
        if matter.code in refused:
            continue
        where = f"事项“{matter.code}”："
        department = departments.get(matter.department)
        if department is None:
            problems.append(f"{where}所属部门“{matter.department}”未在目录中定义")
        elif department.supervisor:
            problems.append(f"{where}所属部门“{matter.department}”为督办部门，不承办事项")
        if matter.code.split(".", 1)[0] != matter.department:
            problems.append(f"{where}代码应以所属部门代码“{matter.department}.”开头")
        for kind in matter.required_materials:
            if kind not in catalogue.materials:
                problems.append(f"{where}材料“{kind}”未在materials中定义")
        if matter.pays_family and matter.max_amount is None:
            problems.append(f"{where}向家属发放款项的事项须设max_amount")
        selection = matter.selected_by
        if selection is None:
            if matter.code != GATE:
                problems.append(f"{where}须以selected_by指明由哪个问题的哪个答案选中")
            continue
        asked = questions.get(selection.question)
        if asked is None:
            problems.append(f"{where}选择问题“{selection.question}”未在questions中定义")
        elif asked.kind == "bool" and selection.answer is not True:
            problems.append(f"{where}是否题“{asked.code}”的答案应为true")
        elif asked.kind == "choice" and selection.answer not in [c.value for c in asked.choices]:
            problems.append(f"{where}答案“{selection.answer}”不在问题“{asked.code}”的choices中")
    problems += _place_problems(catalogue.places)
    gate = next((m for m in catalogue.matters if m.code == GATE), None)
    if gate is None or (gate.code not in refused and (not gate.enabled or gate.selected_by is not None)):
        problems.append(f"目录须包含并启用“{GATE.value}”（户口注销，每案必办，不设selected_by）")
    return problems


def _place_problems(places: Places | None) -> list[str]:
    if not isinstance(places, Places):
        return []
    problems: list[str] = []
    lists = (("乡镇", places.towns), ("殡仪馆", places.funeral_homes), ("派出所", places.police_stations))
    for label, entries in lists:
        codes = [e.code for e in entries]
        for code in sorted({c for c in codes if codes.count(c) > 1}):
            problems.append(f"{label}“{code}”：代码重复")
    stations = {p.code for p in places.police_stations}
    for town in places.towns:
        if town.police_station is not None and town.police_station not in stations:
            problems.append(f"乡镇“{town.code}”：派出所“{town.police_station}”未在police_stations中定义")
    if places.central_area is not None:
        towns = {t.code for t in places.towns}
        for code in places.central_area.towns:
            if code not in towns:
                problems.append(f"中心城区：乡镇“{code}”未在towns中定义")
    return problems


# --- the process's catalogue -------------------------------------------------------------------------------


@cache
def default_catalogue() -> Catalogue:
    return load_catalogue(None)


_ACTIVE: list[Catalogue] = []


def use_catalogue(catalogue: Catalogue) -> None:
    """Make ``catalogue`` the one this process reads (the worker, the CLI and the portal, at start)."""
    _ACTIVE[:] = [catalogue]


def active_catalogue() -> Catalogue:
    """The catalogue this process reads; the packaged default until ``use_catalogue``."""
    return _ACTIVE[0] if _ACTIVE else default_catalogue()


def catalogue_schema() -> dict[str, Any]:
    return Catalogue.model_json_schema()


# The packaged default's tables, for code that names the default's own entries. What a county's catalogue
# changes is read through ``active_catalogue()``.
_DEFAULT = default_catalogue()
DEPARTMENT_NAMES: dict[Department, str] = _DEFAULT.department_names()
MATERIAL_LABELS: dict[MaterialKind, str] = _DEFAULT.material_labels()
BASE_MATERIALS: tuple[MaterialKind, ...] = _DEFAULT.base_material_kinds()
DEFAULT_MATTERS: tuple[MatterDefinition, ...] = _DEFAULT.definitions()
DEFAULT_CHANNEL_DEPARTMENTS: dict[Channel, frozenset[Department]] = _DEFAULT.channel_departments()
