"""Intake: one application, checked with every problem told at once (一次告知), then the case started.

The window (``shenhou case start``) and the online portal both come here: the form is checked and its
scanned materials attached before anything reaches Temporal; an accepted form stores its materials
(content-addressed) and starts the case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from temporalio.client import Client

from client.materials import MaterialFile, attach_materials, store_materials
from client.operations import Started, start_case
from domain.application import validate_application
from domain.models import Application, Problem
from domain.policy import Policy
from runtime.keys import Keys
from runtime.materials import materials_dir, record_departments
from runtime.read_scope import departments_in
from runtime.settings import Settings


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
