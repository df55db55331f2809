"""The floor's inputs (``bench/floor.py``): kept out of its workflow module and passed through the sandbox, as
the real workflows keep theirs in ``domain``."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class FloorMatterInput(BaseModel):
    case_number: str
    matter: str
    pays: bool


class FloorCaseInput(BaseModel):
    case_number: str
    matters: list[str]
    pays: list[bool]


class Ack(BaseModel):
    at: datetime
