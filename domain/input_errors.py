"""What a person typed, told back in Chinese: which field is wrong and why, never the value itself.

Signals from the Temporal UI carry exactly what the officer typed, so nothing here may raise.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)

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
    "by": "确认人或支付系统名称",
    "reference": "发放凭证号",
    "overpaid": "多领金额",
    "overpaid_source": "多领款项来源",
    "authorised_reason": "委托收款原因",
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
