"""Custom search attributes, within the SQLite dev server's limits (ARCHITECTURE.md).

They hold only case numbers, codes, states and times: never personal data.
"""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

CASE_NUMBER = SearchAttributeKey.for_keyword("ShenhouCaseNumber")
CASE_STATE = SearchAttributeKey.for_keyword("ShenhouCaseState")
DEPARTMENT = SearchAttributeKey.for_keyword("ShenhouDepartment")
MATTER = SearchAttributeKey.for_keyword("ShenhouMatter")
MATTER_STATE = SearchAttributeKey.for_keyword("ShenhouMatterState")
OVERDUE = SearchAttributeKey.for_bool("ShenhouOverdue")
MANUAL_HANDLING = SearchAttributeKey.for_bool("ShenhouManualHandling")
DEADLINE = SearchAttributeKey.for_datetime("ShenhouDeadline")
WARNING_AT = SearchAttributeKey.for_datetime("ShenhouWarningAt")
ESCALATION_LEVEL = SearchAttributeKey.for_int("ShenhouEscalationLevel")
DAYS_OVERDUE = SearchAttributeKey.for_int("ShenhouDaysOverdue")

ALL = (
    CASE_NUMBER,
    CASE_STATE,
    DEPARTMENT,
    MATTER,
    MATTER_STATE,
    OVERDUE,
    MANUAL_HANDLING,
    DEADLINE,
    WARNING_AT,
    ESCALATION_LEVEL,
    DAYS_OVERDUE,
)


def cli_flags() -> list[str]:
    """`temporal server start-dev` flags that register every attribute."""
    names = {
        "KEYWORD": "Keyword",
        "BOOL": "Bool",
        "DATETIME": "Datetime",
        "INT": "Int",
    }
    flags: list[str] = []
    for key in ALL:
        flags += ["--search-attribute", f"{key.name}={names[key.indexed_value_type.name]}"]
    return flags
