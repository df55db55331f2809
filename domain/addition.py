"""Matters added to a case for the same deceased: intake's rules, applied to what the family adds (一次告知).

The family comes back to the window (or the portal, for the online channel's matters) with a matter it did not
apply for: a 公积金 account found later, a matter the portal could not take. The addition form names the matters,
the family's new answers to the situation questions, the materials those matters need and, when something will
now be paid and the case has no account, the payee account::

    matters: [hpf.death_withdrawal]
    situations: {housing_provident_fund: true}
    materials: [{kind: ..., sha256: ..., size: ...}]

It is checked as intake checks a form: the case's application with these answers, these matters and these
materials goes through ``validate_application``, so eligibility, the channel's reach, the materials and the
payee are the same rules, and every problem is told at once with the addition's own (a matter the case already
has, or one approved in an earlier case of the same deceased). Pure: no clock, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from domain import messages
from domain.application import validate_application
from domain.catalogue import Catalogue, active_catalogue
from domain.enums import Channel, MatterCode, MatterState
from domain.models import Application, BankAccount, MaterialRef, MattersAdded, Problem, Situations
from domain.policy import Policy

FORM_KEYS = ("channel", "matters", "situations", "materials", "bank_account", "deceased_bank_card")


@dataclass(frozen=True)
class Addition:
    """An addition that passed intake's rules."""

    # The case's application with the family's new answers, materials and account, and (户口注销 first) only the
    # added matters: what a new case linked to a finished one runs.
    application: Application
    matters: tuple[MatterCode, ...]
    situations: Situations
    materials: tuple[MaterialRef, ...]
    bank_account: BankAccount | None
    channel: Channel
    # Given when an added matter pays the family and the case had no card of the deceased's.
    deceased_bank_card: str | None = None

    def statement(self, clerk: str) -> MattersAdded:
        """What the window signs (the portal names itself as issuer) and the running case takes."""
        return MattersAdded(clerk=clerk, matters=self.matters, channel=self.channel, situations=self.situations,
                            materials=self.materials, bank_account=self.bank_account,
                            deceased_bank_card=self.deceased_bank_card)


def check_addition(
    raw: object, application: Application, present: Mapping[MatterCode, tuple[str, MatterState]], policy: Policy,
    today: date, catalogue: Catalogue | None = None,
) -> Addition | list[Problem]:
    """The addition, or every problem with it. ``present``: the matters the family cannot add again, each with
    the case that has it and its state (the running case's matters; the approved ones of earlier cases)."""
    catalogue = catalogue or active_catalogue()
    if not isinstance(raw, Mapping):
        return [Problem(field="", message="追加事项表格式不正确，应为逐项填写的表")]
    problems: list[Problem] = [Problem(field=str(key), message=f"追加事项表中的“{key}”无法识别")
                               for key in raw if key not in FORM_KEYS]
    chosen = raw.get("matters")
    if chosen is None or chosen == []:
        problems.append(Problem(field="matters", message="请填写追加的事项（matters）"))
    elif isinstance(chosen, list):
        problems.extend(_repeats(chosen, application, present, catalogue))
    situations = raw.get("situations", {})
    if not isinstance(situations, Mapping):
        problems.append(Problem(field="situations", message="逝者情形应为逐项填写的表"))
        situations = {}
    materials = raw.get("materials", [])
    if not isinstance(materials, list):
        problems.append(Problem(field="materials", message="材料清单应为列表"))
        materials = []
    account = raw.get("bank_account")
    if account is not None and application.applicant.bank_account.given:
        problems.append(Problem(field="bank_account", message=messages.ADDITION_ACCOUNT_GIVEN))
        account = None
    card = raw.get("deceased_bank_card")
    if card is not None and application.deceased.bank_card:
        problems.append(Problem(field="deceased_bank_card", message=messages.ADDITION_CARD_GIVEN))
        card = None

    base: dict[str, Any] = application.model_dump(mode="json")
    form = {
        "channel": raw.get("channel", Channel.WINDOW.value),
        "deceased": {**base["deceased"], **({"bank_card": card} if card is not None else {})},
        "death_certificate": base["death_certificate"],
        "applicant": {**base["applicant"], **({"bank_account": account} if account is not None else {})},
        "situations": {**base["situations"], **situations},
        "matters": [] if chosen is None else chosen,
        "materials": [*base["materials"], *materials],
    }
    result = validate_application(form, policy, today, catalogue)
    if isinstance(result, list):
        return [*_own_fields(result, len(base["materials"])), *problems]
    if problems:
        return problems
    # Intake runs every termination the answers select: one the case already has is not added again, a new
    # one is added with the family's choice.
    added = tuple(code for code in result.matters if code != MatterCode.HUKOU_CANCELLATION and code not in present)
    payee = result.applicant.bank_account
    return Addition(
        application=result,
        matters=added,
        situations=result.situations,
        materials=tuple(m for m in result.materials if m not in application.materials),
        bank_account=payee if payee.given and not application.applicant.bank_account.given else None,
        channel=result.channel,
        deceased_bank_card=result.deceased.bank_card if not application.deceased.bank_card else None,
    )


def _repeats(
    chosen: list[Any], application: Application, present: Mapping[MatterCode, tuple[str, MatterState]],
    catalogue: Catalogue,
) -> list[Problem]:
    """The listed matters the family cannot add: 户口注销, and those a case of this deceased already has."""
    problems = []
    for index, item in enumerate(chosen):
        entry = catalogue.entry(item.strip()) if isinstance(item, str) else None
        if entry is None:
            continue  # intake's own check names it
        code = MatterCode(entry.code)
        if code == MatterCode.HUKOU_CANCELLATION:
            problems.append(Problem(field=f"matters.{index}", message=messages.ADDITION_HUKOU))
        elif code in present:
            case_number, state = present[code]
            problems.append(Problem(field=f"matters.{index}",
                                    message=messages.addition_present(entry.short_name, case_number, state.value)))
    return problems


def _own_fields(problems: list[Problem], earlier_materials: int) -> list[Problem]:
    """Intake's problems in the addition form's terms: its materials are numbered from its own first one."""
    shown = []
    for problem in problems:
        field = problem.field
        if field.startswith("materials."):
            index, _, rest = field.removeprefix("materials.").partition(".")
            if index.isdigit():
                field = ".".join(p for p in ("materials", str(int(index) - earlier_materials), rest) if p)
        elif field.startswith("applicant.bank_account"):
            field = field.removeprefix("applicant.")
        elif field == "deceased.bank_card":
            field = "deceased_bank_card"
        shown.append(problem.model_copy(update={"field": field}))
    return shown
