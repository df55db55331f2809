"""Intake: one application, checked with every problem told at once (一次告知), then the case started.

The window (``shenhou case start``) and the online portal both come here: the form is checked and its
scanned materials attached before anything reaches Temporal; an accepted form stores its materials
(content-addressed) and starts the case.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client

from client.errors import NotFound, OperationRefused
from client.materials import MaterialFile, attach_materials, store_materials
from client.operations import (
    Chain,
    Started,
    add_matters,
    case_status,
    chain_of,
    is_running,
    start_added_case,
    start_case,
)
from domain import messages
from domain.addition import Addition, check_addition
from domain.application import validate_application
from domain.enums import MatterCode, MatterState
from domain.ids import MAX_ATTEMPT, numbered
from domain.models import Application, Problem
from domain.policy import Policy
from register.lookups import APPROVED_STATES, case_application
from register.sealing import Sealer
from runtime.keys import Keys
from runtime.materials import materials_dir, record_departments
from runtime.read_scope import departments_in
from runtime.settings import Settings
from runtime.signing import StatementSigner, sign_statement


@dataclass(frozen=True)
class Accepted:
    """A valid application and the scanned files it refers to, not yet stored."""

    application: Application
    files: tuple[MaterialFile, ...]


def check(form: Any, base_dir: Path, policy: Policy, today: date) -> Accepted | list[Problem]:
    """The accepted application, or every problem with the form and its material files."""
    attached = attach_materials(form, base_dir)
    result = validate_application(attached.form, policy, today)
    if isinstance(result, list):
        return attached.merge(result)
    if attached.problems:
        return attached.problems
    return Accepted(application=result, files=tuple(attached.files))


async def submit(
    accepted: Accepted, client: Client, keys: Keys, settings: Settings, *, register: Engine | None = None
) -> Started:
    """Store the materials, then start the case (a duplicate is refused with the existing case number;
    ``register`` lets that check see cases the engine has forgotten)."""
    store = materials_dir(settings)
    store_materials(list(accepted.files), store)
    # Which departments may open these scans (runtime/materials.py): those of the application's matters.
    if accepted.files:
        record_departments(store, [item.sha256 for item in accepted.files],
                           departments_in({"matters": [code.value for code in accepted.application.matters]}))
    return await start_case(client, accepted.application, keys.case_id_key, settings.task_queue, register=register)


# --- matters added to a case ------------------------------------------------------------------------


@dataclass(frozen=True)
class AdditionTarget:
    """Where matters added for a deceased go: the running case, or a new case linked to the last, closed one."""

    case_number: str
    running: bool
    application: Application
    # The matters the family cannot add: each with the case that has it and its state.
    present: dict[MatterCode, tuple[str, MatterState]]
    chain: Chain
    # For a closed case: the number the linked case gets.
    next_number: str | None = None


@dataclass(frozen=True)
class Added:
    case_number: str
    message: str
    # The matters went to a new case linked to this closed one.
    earlier_case: str | None = None


async def addition_target(client: Client, case_number: str, register: Engine | None, sealer: Sealer) -> AdditionTarget:
    """The deceased's last case, from any of its case numbers, with what the family cannot add again."""
    if register is None:
        raise OperationRefused(messages.ADDITION_NO_REGISTER, case_number=case_number)
    chain = await chain_of(client, case_number, register)
    if not chain.cases:
        raise NotFound(f"未找到受理编号{case_number}的案件", case_number=case_number)
    last = chain.cases[-1]
    application = case_application(register, sealer, last.case_number)
    if application is None:
        raise OperationRefused(messages.ADDITION_NO_APPLICATION, case_number=last.case_number)
    if last.running:
        # Every matter of the running case, whatever its state: each has its one workflow there.
        status = await case_status(client, last.case_number)
        present = {view.code: (last.case_number, view.state) for view in status.matters}
        return AdditionTarget(last.case_number, True, application, present, chain)
    if chain.hukou is None:
        raise OperationRefused(messages.ADDITION_HUKOU_FIRST, case_number=last.case_number)
    if len(chain.cases) >= MAX_ATTEMPT:
        raise OperationRefused(messages.ADDITION_TOO_MANY, case_number=last.case_number)
    # What is done stays done: a matter approved in any case of the deceased is not applied for again.
    present = {code: (standing.case_number, state) for standing in chain.cases
               for code, state in (standing.matters or {}).items() if state in APPROVED_STATES}
    return AdditionTarget(last.case_number, False, application, present, chain,
                          next_number=numbered(chain.cases[0].case_number, len(chain.cases) + 1))


def check_addition_form(
    form: Any, base_dir: Path, target: AdditionTarget, policy: Policy, today: date
) -> tuple[Addition, tuple[MaterialFile, ...]] | list[Problem]:
    """The addition and the scanned files it brings, or every problem with it and its files (一次告知)."""
    attached = attach_materials(form, base_dir)
    result = check_addition(attached.form, target.application, target.present, policy, today)
    if isinstance(result, list):
        return attached.merge(result)
    if attached.problems:
        return attached.problems
    return result, tuple(attached.files)


async def submit_addition(
    addition: Addition, files: tuple[MaterialFile, ...], target: AdditionTarget, clerk: str, client: Client,
    settings: Settings, signer: StatementSigner, *, register: Engine | None = None, sealer: Sealer | None = None,
) -> Added:
    """Store the materials, then add the matters: to the running case, or (it closed) to a new linked case. A
    case that closes while the addition arrives sends it on to the linked case. ``signer``: the window's, or the
    portal's for a signed-in applicant's online matters."""
    store = materials_dir(settings)
    store_materials(list(files), store)
    if files:
        record_departments(store, [item.sha256 for item in files],
                           departments_in({"matters": [code.value for code in addition.matters]}))
    statement = addition.statement(clerk).model_copy(update={"issuer": signer.issuer})
    if target.running:
        try:
            ack = await add_matters(client, target.case_number, statement, signer)
            return Added(target.case_number, ack.message)
        except OperationRefused as refused:
            if messages.ADDITION_CLOSING not in refused.message or register is None or sealer is None:
                raise
        await _closed(client, target.case_number)
        target = await addition_target(client, target.case_number, register, sealer)
        if target.running:
            raise OperationRefused(messages.ADDITION_CLOSING, case_number=target.case_number)
    assert target.next_number is not None
    signed = sign_statement(signer, target.next_number, None, statement)
    started = await start_added_case(client, target.next_number, addition.application, target.chain,
                                     settings.task_queue, signed)
    return Added(started.case_number, messages.added_case_started(started.case_number, target.case_number),
                 earlier_case=target.case_number)


async def _closed(client: Client, case_number: str, within: float = 30.0) -> None:
    """Until the case has closed (it was closing when the addition came)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if not await is_running(client, case_number):
            return
        await asyncio.sleep(0.2)
