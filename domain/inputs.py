"""Turning what a person typed into a typed input, or a Chinese reason it was refused.

Signals from the Temporal UI carry exactly what the officer typed, so nothing here may raise.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.common import RawValue
from temporalio.converter import PayloadConverter

from domain.catalogue import MatterDefinition
from domain.enums import DecisionKind, MatterCode, MatterState
from domain.models import ApproveInput, DecisionCommand

M = TypeVar("M", bound=BaseModel)
F = TypeVar("F", bound=Callable[..., Any])

FIELD_LABELS = {
    "officer": "经办人",
    "note": "备注",
    "amount": "金额",
    "certificate_no": "证明编号",
    "reason": "原因",
    "items": "材料清单",
    "supervisor": "督办人",
    "working_days": "延长工作日数",
    "matter": "事项",
    "funeral_home": "殡仪馆",
    "cremated_on": "火化日期",
    "county": "火化地",
    "clerk": "窗口人员",
    "kind": "决定类型",
    "bank_name": "开户行",
    "account_name": "户名",
    "card_number": "银行卡号",
}

_ERROR_TEXT = {
    "missing": "缺少{label}",
    "extra_forbidden": "不认识的字段{label}",
    "string_too_short": "{label}不能为空",
    "string_too_long": "{label}过长",
    "too_short": "{label}不能为空",
    "too_long": "{label}条目过多",
    "string_type": "{label}应为文字",
    "list_type": "{label}应为列表",
    "int_parsing": "{label}应为整数",
    "int_type": "{label}应为整数",
    "greater_than_equal": "{label}过小",
    "less_than_equal": "{label}过大",
    "date_from_datetime_parsing": "{label}应为日期（YYYY-MM-DD）",
    "date_parsing": "{label}应为日期（YYYY-MM-DD）",
    "date_type": "{label}应为日期（YYYY-MM-DD）",
    "enum": "{label}不是已知的取值",
    "decimal_parsing": "{label}应为数字，如 1234.50",
    "decimal_type": "{label}应为数字，如 1234.50",
    "decimal_max_digits": "{label}超出允许范围",
    "decimal_max_places": "{label}最多两位小数",
    "decimal_whole_digits": "{label}超出允许范围",
    "finite_number": "{label}应为有限数字",
    "text_invisible": "{label}含有控制字符或不可见字符",
    "amount_format": "{label}应为半角数字，如 1234.50",
}

MAX_REASON_CHARS = 300
_PLAIN_NAME = re.compile(r"\A[a-z_]{1,32}\Z")

# The default of every signal argument: the Temporal UI sends no argument for an empty form.
NO_INPUT = RawValue(payload=None)  # type: ignore[arg-type]


def one_input(handler: F) -> F:
    """Let a signal handler receive surplus inputs so it can refuse them (apply under ``@workflow.signal``).

    The Temporal CLI can send several inputs to a signal, and the SDK calls the handler with all of them:
    a handler of one parameter then raises TypeError and fails every workflow task. Written as
    ``def approve(self, payload: RawValue = NO_INPUT, *extra: Any)``, the handler takes them; the
    signature shown to the SDK leaves out ``*extra``, so a single input still arrives as a RawValue.
    """
    signature = inspect.signature(handler)
    kept = [p for p in signature.parameters.values() if p.kind is not inspect.Parameter.VAR_POSITIONAL]
    setattr(handler, "__signature__", signature.replace(parameters=kept))  # noqa: B010
    return handler


def _label(loc: tuple[int | str, ...]) -> str:
    if not loc:
        return "输入"
    for part in reversed(loc):
        if isinstance(part, str) and part in FIELD_LABELS:
            return FIELD_LABELS[part]
    head = next((str(part) for part in reversed(loc) if isinstance(part, str)), "")
    # Repeat an unknown field's name only when it is a plain identifier: a key can carry anything.
    return f"“{head}”" if _PLAIN_NAME.match(head) else "（未知字段）"


def describe_validation_error(err: ValidationError) -> str:
    parts: list[str] = []
    for item in err.errors(include_url=False, include_input=False):
        loc = tuple(item.get("loc", ()))
        kind = str(item.get("type", ""))
        if kind == "model_type" or kind == "dict_type":
            parts.append("输入应为一个JSON对象")
            continue
        template = _ERROR_TEXT.get(kind, "{label}格式不正确")
        text = template.format(label=_label(loc))
        if text not in parts:
            parts.append(text)
    return "；".join(parts)[:MAX_REASON_CHARS]


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


def parse_input(model: type[M], data: Any) -> M | str:
    """The typed input, or a Chinese reason naming every problem."""
    if data is None or data == {} or data == "":
        return "输入为空，请填写JSON对象"
    if not isinstance(data, dict):
        return "输入应为一个JSON对象"
    try:
        return model.model_validate(data)
    except ValidationError as err:
        return describe_validation_error(err)


def parse_raw(
    model: type[M], raw: RawValue | None, converter: PayloadConverter, extra: tuple[Any, ...] = ()
) -> M | str:
    if extra:
        return f"只能填写一个输入（一个JSON对象），收到了{len(extra) + 1}个"
    ok, data = decode_raw(raw, converter)
    if not ok:
        return str(data)
    return parse_input(model, data)


def check_approval(matter: MatterDefinition, approval: ApproveInput) -> str | None:
    """Matter-specific rules for an approval, shared by the signal and the CLI's update."""
    problems: list[str] = []
    if matter.pays_family:
        if approval.amount is None:
            problems.append(f"“{matter.short_name}”需向家属发放款项，须填写金额")
        elif approval.amount <= Decimal("0"):
            problems.append("金额须大于0")
        elif matter.max_amount is not None and approval.amount > matter.max_amount:
            problems.append(f"金额超过本事项上限{matter.max_amount}元")
    elif approval.amount is not None:
        problems.append(f"“{matter.short_name}”不发放款项，不应填写金额")
    if matter.code == MatterCode.HUKOU_CANCELLATION and not approval.certificate_no:
        problems.append("户口注销须填写户口注销证明编号（certificate_no）")
    return "；".join(problems) or None


def check_state_for(kind: DecisionKind, state: MatterState, final: bool) -> str | None:
    if final:
        return f"事项已办结（{state.value}），不能再作决定"
    if kind in (DecisionKind.APPROVE, DecisionKind.REJECT, DecisionKind.REQUEST_MATERIALS):
        if state == MatterState.AWAITING_MATERIALS:
            return "事项正在等待补正材料，材料补齐后方可审核"
        if state != MatterState.UNDER_REVIEW:
            return f"事项当前状态为{state.value}，不能审核"
    if kind == DecisionKind.MATERIALS_SUPPLEMENTED and state != MatterState.AWAITING_MATERIALS:
        return f"事项当前状态为{state.value}，无需补正材料"
    if kind == DecisionKind.EXTEND_DEADLINE and state not in (
        MatterState.UNDER_REVIEW,
        MatterState.AWAITING_MATERIALS,
    ):
        return f"事项当前状态为{state.value}，不能延长时限"
    return None


def command_payload(command: DecisionCommand) -> BaseModel | str:
    """The one input a CLI decision carries for its kind."""
    payload = {
        DecisionKind.APPROVE: command.approve,
        DecisionKind.REJECT: command.reject,
        DecisionKind.REQUEST_MATERIALS: command.request_materials,
        DecisionKind.EXTEND_DEADLINE: command.extend_deadline,
    }.get(command.kind)
    if payload is None:
        return f"缺少{command.kind.value}的内容"
    return payload
