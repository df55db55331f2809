"""Cases run for weeks: today's workflow code must replay the histories recorded by earlier code.

Regenerate with `.venv/bin/python -m tests.histories.record` (see that module). A replay failure means a
change to workflow code altered its commands without `workflow.patched` (workflows/versions.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from runtime.codec import data_converter
from tests.histories import patch_ids
from tests.histories.record import SCENARIOS as RECORDED
from tests.histories.record import SINCE_PATCH
from worker import sandbox_runner
from workflows.case import CaseWorkflow
from workflows.matter import MatterWorkflow
from workflows.versions import PATCHES

HISTORIES = Path(__file__).resolve().parent / "histories"
SCENARIOS = sorted(p.name for p in HISTORIES.iterdir() if p.is_dir() and any(p.glob("*.json")))


def _histories(scenario: str) -> list[WorkflowHistory]:
    return [WorkflowHistory.from_json(f.stem, f.read_text()) for f in sorted((HISTORIES / scenario).glob("*.json"))]


def test_every_scenario_is_recorded_in_the_1_0_shape() -> None:
    """... or, for a scenario of a change shipped behind a patch, in that patch's shape."""
    assert set(RECORDED) - set(SINCE_PATCH) <= set(SCENARIOS)
    assert {f"{name}-{patch}" for name, patch in SINCE_PATCH.items()} <= set(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_recordings_carry_only_known_patches(scenario: str) -> None:
    """A scenario's own folder is the 1.0 shape, which has no patch marker; `<scenario>-<patch id>` (a change
    shipped later, recorded beside it) carries its patch, which workflows/versions.py lists, and none but those
    listed before it (shipped earlier, so recorded too)."""
    name, _, patch = scenario.partition("-")
    assert name in RECORDED, scenario
    assert name not in SINCE_PATCH or patch == SINCE_PATCH[name], scenario
    assert not patch or patch in PATCHES, scenario
    shipped = list(PATCHES)
    allowed = set(shipped[:shipped.index(patch) + 1]) if patch else set()
    found: set[str] = set()
    for history in _histories(scenario):
        assert patch_ids(history) <= allowed, history.workflow_id
        found |= patch_ids(history)
    assert not patch or patch in found, scenario


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_recorded_histories_replay(scenario: str) -> None:
    histories = _histories(scenario)
    # The case and at least 户口注销 and one matter of the parallel phase.
    assert len(histories) >= 3
    assert sum("." not in history.workflow_id for history in histories) == 1
    replayer = Replayer(
        workflows=[CaseWorkflow, MatterWorkflow],
        data_converter=data_converter(None),
        workflow_runner=sandbox_runner(),
    )
    failures = {}
    for history in histories:
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        if result.replay_failure is not None:
            failures[history.workflow_id] = str(result.replay_failure)
    assert not failures, failures
