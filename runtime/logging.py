"""One log pipeline: structlog for our code, and the SDK's and workflows' stdlib loggers through the
same renderer. JSON unless stdout is a terminal. Case number and matter code are bound on every line
that concerns a workflow or activity, read from the Temporal context the SDK attaches.
"""

from __future__ import annotations

import logging
import sys
from typing import IO, Any

import structlog
from structlog.types import EventDict, Processor

from domain.ids import is_case_number


def _current_temporal_context() -> dict[str, Any] | None:
    from temporalio import activity, workflow

    if activity.in_activity():
        info = activity.info()
        return {"workflow_id": info.workflow_id, "activity_type": info.activity_type, "attempt": info.attempt}
    if workflow.in_workflow():
        winfo = workflow.info()
        return {"workflow_id": winfo.workflow_id, "workflow_type": winfo.workflow_type}
    return None


def _temporal_context(_: Any, __: str, event_dict: EventDict) -> EventDict:
    record = event_dict.get("_record")
    extra = getattr(record, "temporal_workflow", None) or getattr(record, "temporal_activity", None)
    if extra is None:
        extra = _current_temporal_context()
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


def configure_logging(level: str = "INFO", json: bool | None = None, stream: IO[str] | None = None) -> None:
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
            # The level first: an event below it costs nothing more (the worker logs at WARNING under load).
            structlog.stdlib.filter_by_level,
            _drop_replay,
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
    # The context is rendered as fields, not appended to the message text.
    from temporalio import activity, workflow

    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
