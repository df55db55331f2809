"""Decoding a signal's raw payload into a typed input, or a Chinese reason it was refused.

The Temporal UI sends exactly what the officer typed: nothing, invalid JSON, a wrong field, or a payload
this worker cannot decrypt. Handlers take the raw payload so that every such input is refused and recorded
instead of failing the workflow task.
"""

from __future__ import annotations

import inspect
import re
import typing
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RawValue
from temporalio.converter import PayloadConverter

from domain.input_errors import parse_input

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])

# The default of every signal argument: the Temporal UI sends no argument for an empty form.
NO_INPUT = RawValue(payload=None)  # type: ignore[arg-type]


def one_input(handler: F) -> F:
    """Let a signal handler receive surplus inputs so it can refuse them (apply under ``@workflow.signal``).

    The Temporal CLI can send several inputs to a signal, and the SDK calls the handler with all of them:
    a handler of one parameter then raises TypeError and fails every workflow task. Written as
    ``def approve(self, payload: RawValue = NO_INPUT, *extra: Any)``, the handler takes them; the
    signature shown to the SDK leaves out ``*extra``, so a single input still arrives as a RawValue.
    """
    key = (handler.__module__, handler.__qualname__)
    known = _SIGNATURES.get(key)
    if known is None:
        signature = inspect.signature(handler)
        kept = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
        evaluated = typing.get_type_hints(handler)
        # Types shared by every run only (a class of a re-imported module must not outlive its sandbox).
        shared = all(hint in _SHARED_TYPES for hint in evaluated.values())
        known = _SIGNATURES[key] = (signature.replace(parameters=kept), evaluated if shared else None)
    shown, hints = known
    setattr(handler, "__signature__", shown)  # noqa: B010
    if hints is not None:
        # The annotations already evaluated: the SDK reads them for every handler of every workflow it
        # defines, and evaluating them from text (``from __future__ import annotations``) compiled each one.
        handler.__annotations__ = dict(hints)
    return handler


def raw_signal(name: str, description: str) -> Callable[[F], F]:
    """``@workflow.signal`` over ``@one_input``: a signal that takes what was typed, raw, and refuses surplus."""

    def define(handler: F) -> F:
        return workflow.signal(name=name, description=description)(one_input(handler))

    return define


# This module is passed through the sandbox, so the signatures outlive the workflow modules it re-imports for
# every run: each handler's is worked out once per worker, not once per workflow.
_SIGNATURES: dict[tuple[str, str], tuple[inspect.Signature, dict[str, Any] | None]] = {}
_SHARED_TYPES: tuple[object, ...] = (RawValue, Any, type(None))


def decode_raw(raw: RawValue | None, converter: PayloadConverter) -> tuple[bool, Any]:
    """(ok, data): the JSON value a signal carried, or (False, reason) when it is unreadable."""
    if raw is None or raw.payload is None:
        return True, None
    if raw.payload.metadata.get("encoding") == b"binary/undecryptable":
        return False, "输入无法解密（加密密钥不符）"
    try:
        return True, converter.from_payload(raw.payload)
    except Exception:
        return False, "输入不是有效的JSON"


def parse_raw(
    model: type[M], raw: RawValue | None, converter: PayloadConverter, extra: tuple[Any, ...] = ()
) -> M | str:
    if extra:
        return f"只能填写一个输入（一个JSON对象），收到了{len(extra) + 1}个"
    ok, data = decode_raw(raw, converter)
    if not ok:
        return str(data)
    return parse_input(model, data)


def to_raw(value: BaseModel) -> RawValue:
    """A typed input for a raw handler (a workflow signalling another): decoded and checked on arrival like
    what a person typed."""
    return RawValue(workflow.payload_converter().to_payload(value))


def parse_update(model: type[M], raw: RawValue) -> M:
    """An update's typed input, or ValueError with the Chinese reason (the update is refused, no input
    echoed: a conversion error from the SDK would repeat what was sent, personal data included)."""
    parsed = parse_raw(model, raw, workflow.payload_converter())
    if isinstance(parsed, str):
        raise ValueError(parsed)
    return parsed


_PLAIN_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,39}")


def shown_name(name: str) -> str:
    """A signal name as the record shows it: only a plain identifier is repeated (a name can carry anything)."""
    return name if _PLAIN_NAME.fullmatch(name) else "（未知操作）"
