"""A matter's inbox: the decisions it takes, each with its kind, queued for its main loop.

Kept out of ``workflows/matter.py`` and passed through the sandbox (worker.py): a dataclass built afresh for
every workflow run the sandbox starts cost a noticeable share of the worker's CPU per case.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.decisions import KIND_OF, Decision
from domain.enums import DecisionKind

__all__ = ["KIND_OF", "Decision", "InboxItem"]


@dataclass(frozen=True)
class InboxItem:
    """An accepted decision waiting for the main loop; ``ticket`` lets an update wait for its own."""

    decision: Decision
    ticket: int

    @property
    def kind(self) -> DecisionKind:
        return KIND_OF[type(self.decision)]
