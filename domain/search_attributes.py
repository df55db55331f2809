"""The custom search attributes: their names and types, and nothing else.

They hold only case numbers, department and matter codes, states, flags and times: never personal data.
The SQLite dev server allows at most 10 Keyword and 3 each of Int, Bool and Datetime attributes.
The Temporal keys built from this table live in ``workflows.search_attributes``.
"""

from __future__ import annotations

from enum import StrEnum


class AttributeType(StrEnum):
    """Temporal's names for the indexed value types."""

    KEYWORD = "Keyword"
    BOOL = "Bool"
    DATETIME = "Datetime"
    INT = "Int"


CASE_NUMBER = "ShenhouCaseNumber"
CASE_STATE = "ShenhouCaseState"
DEPARTMENT = "ShenhouDepartment"
MATTER = "ShenhouMatter"
MATTER_STATE = "ShenhouMatterState"
OVERDUE = "ShenhouOverdue"
MANUAL_HANDLING = "ShenhouManualHandling"
DEADLINE = "ShenhouDeadline"
WARNING_AT = "ShenhouWarningAt"
ESCALATION_LEVEL = "ShenhouEscalationLevel"
DAYS_OVERDUE = "ShenhouDaysOverdue"
# The deadline was counted through a year without the official holiday schedule.
DEADLINE_APPROXIMATE = "ShenhouDeadlineApproximate"

TYPES: dict[str, AttributeType] = {
    CASE_NUMBER: AttributeType.KEYWORD,
    CASE_STATE: AttributeType.KEYWORD,
    DEPARTMENT: AttributeType.KEYWORD,
    MATTER: AttributeType.KEYWORD,
    MATTER_STATE: AttributeType.KEYWORD,
    OVERDUE: AttributeType.BOOL,
    MANUAL_HANDLING: AttributeType.BOOL,
    DEADLINE: AttributeType.DATETIME,
    WARNING_AT: AttributeType.DATETIME,
    ESCALATION_LEVEL: AttributeType.INT,
    DAYS_OVERDUE: AttributeType.INT,
    DEADLINE_APPROXIMATE: AttributeType.BOOL,
}
