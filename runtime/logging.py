"""One log pipeline: structlog for our code, and the SDK's and workflows' stdlib loggers through the
same renderer. JSON unless stdout is a terminal. Case number and matter code are bound on every line
that concerns a workflow or activity, read from the Temporal context the SDK attaches.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import structlog
from structlog.types import EventDict, Processor

from domain.ids import is_case_number


def _temporal_context(_: Any, __: str, event_dict: EventDict) -> EventDict:
    record = event_dict.get("_record")
    extra = getattr(record, "temporal_workflow", None) or getattr(record, "temporal_activity", None)
    if isinstance(extra, dict):
        workflow_id = str(extra.get("workflow_id", ""))
        case_number, _, matter = workflow_id.partition(".")
        if is_case_number(case_number):
            event_dict.setdefault("case_number", case_number)
            if matter:
                event_dict.setdefault("matter", matter)
        for key in ("workflow_type", "activity_type", "attempt"):
            if key in extra:
                event_dict.setdefault(key, extra[key])
    return event_dict


def _drop_replay(_: Any, __: str, event_dict: EventDict) -> EventDict:
    # A plain structlog call inside workflow code would log again on every replay.
    try:
        from temporalio import workflow

        if workflow.in_workflow() and workflow.unsafe.is_replaying_history_events():
            raise structlog.DropEvent
    except ImportError:  # pragma: no cover
        pass
    return event_dict


def configure_logging(level: str = "INFO", json: bool | None = None) -> None:
    as_json = (not sys.stdout.isatty()) if json is None else json
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _temporal_context,
    ]
    renderer: Processor = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            _drop_replay,
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
