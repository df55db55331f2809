"""Recorded histories of whole cases (see record.py) and what tests read from them."""

from __future__ import annotations

import json

from temporalio.client import WorkflowHistory


def patch_ids(history: WorkflowHistory) -> set[str]:
    """The ids of the ``workflow.patched`` markers a history carries."""
    found = set()
    for event in history.events:
        if event.HasField("marker_recorded_event_attributes"):
            marker = event.marker_recorded_event_attributes
            if marker.marker_name == "core_patch":
                found.add(json.loads(marker.details["patch-data"].payloads[0].data)["id"])
    return found
