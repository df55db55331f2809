"""Cases run for weeks: today's workflow code must replay the histories recorded by earlier code.

Regenerate with `.venv/bin/python -m tests.histories.record` (see that module); a failure here means a
change to workflow code altered its commands without `workflow.patched`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from runtime.codec import data_converter
from worker import sandbox_runner
from workflows.case import CaseWorkflow
from workflows.matter import MatterWorkflow
from workflows.versions import SHAPE_2026_12, SHAPE_2026_12B, SHAPE_2026_12C, SHAPE_2026_12D

HISTORIES = Path(__file__).resolve().parent / "histories"
SCENARIOS = sorted(p.name for p in HISTORIES.iterdir() if p.is_dir() and any(p.glob("*.json")))


FIRST_SHAPE = {"happy", "rejection", "materials", "withdrawal", "escalation"}
SCENARIOS_2026_12 = (*sorted(FIRST_SHAPE), "payment")
# Each later shape's folders and the markers its case and its matters carry.
SHAPES = {
    "2026-12": (SHAPE_2026_12, SHAPE_2026_12),
    "2026-12b": (SHAPE_2026_12, SHAPE_2026_12B),
    "2026-12c": (SHAPE_2026_12C, SHAPE_2026_12C),
    "2026-12d": (SHAPE_2026_12C, SHAPE_2026_12D),
}
LATER = {f"{name}-{shape}": shape for shape in SHAPES for name in SCENARIOS_2026_12}
# Signed-in officers: statements checked, one refused, an extension by a supervisor.
LATER["officers-2026-12d"] = "2026-12d"
# A case that continued as new: its last run, started from the carried state.
LATER["continued-2026-12c"] = "2026-12c"


def test_every_scenario_is_recorded() -> None:
    assert FIRST_SHAPE | set(LATER) <= set(SCENARIOS)


@pytest.mark.parametrize("scenario", sorted(LATER))
def test_later_shape_recordings_carry_their_marker(scenario: str) -> None:
    """Without its marker a recording replays an older shape and guards nothing of the one it names."""
    case_marker, matter_marker = SHAPES[LATER[scenario]]
    for path in (HISTORIES / scenario).glob("*.json"):
        history = WorkflowHistory.from_json(path.stem, path.read_text())
        wanted = matter_marker if "." in path.stem else case_marker
        assert _patches(history) == {wanted}, path.name


def _patches(history: WorkflowHistory) -> set[str]:
    found = set()
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_patch":
                found.add(json.loads(marker.details["patch-data"].payloads[0].data)["id"])
    return found


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_recorded_histories_replay(scenario: str) -> None:
    files = sorted((HISTORIES / scenario).glob("*.json"))
    histories = [WorkflowHistory.from_json(f.stem, f.read_text()) for f in files]
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
    assert len(files) >= 2
