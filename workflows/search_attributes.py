"""Typed keys for the custom search attributes (names and types: ``domain.search_attributes``)."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

from domain import search_attributes as names

CASE_NUMBER = SearchAttributeKey.for_keyword(names.CASE_NUMBER)
CASE_STATE = SearchAttributeKey.for_keyword(names.CASE_STATE)
DEPARTMENT = SearchAttributeKey.for_keyword(names.DEPARTMENT)
MATTER = SearchAttributeKey.for_keyword(names.MATTER)
MATTER_STATE = SearchAttributeKey.for_keyword(names.MATTER_STATE)
OVERDUE = SearchAttributeKey.for_bool(names.OVERDUE)
MANUAL_HANDLING = SearchAttributeKey.for_bool(names.MANUAL_HANDLING)
DEADLINE = SearchAttributeKey.for_datetime(names.DEADLINE)
WARNING_AT = SearchAttributeKey.for_datetime(names.WARNING_AT)
ESCALATION_LEVEL = SearchAttributeKey.for_int(names.ESCALATION_LEVEL)
DAYS_OVERDUE = SearchAttributeKey.for_int(names.DAYS_OVERDUE)
DEADLINE_APPROXIMATE = SearchAttributeKey.for_bool(names.DEADLINE_APPROXIMATE)

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
    DEADLINE_APPROXIMATE,
)
