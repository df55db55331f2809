"""Cases run for weeks: today's workflow code must replay the histories recorded by earlier code.

Regenerate with `.venv/bin/python -m tests.histories.record` (see that module); a failure here means a
change to workflow code altered its commands without `workflow.patched`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from runtime.codec import data_converter
from worker import sandbox_runner
from workflows.case import CaseWorkflow
from workflows.matter import MatterWorkflow

HISTORIES = Path(__file__).resolve().parent / "histories"
SCENARIOS = sorted(p.name for p in HISTORIES.iterdir() if p.is_dir() and any(p.glob("*.json")))


def test_every_scenario_is_recorded() -> None:
    assert {"happy", "rejection", "materials", "withdrawal", "escalation"} <= set(SCENARIOS)


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
