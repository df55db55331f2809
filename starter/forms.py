"""Reading the registration form (JSON or YAML); its scanned materials are attached by client/materials.py.

Nothing here repeats the form's content in a message.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from starter.errors import InvalidInput

MAX_FORM_BYTES = 1_000_000


class FormError(InvalidInput):
    """The form file cannot be read or parsed."""


def load_form(path: Path) -> Any:
    """The parsed form: JSON for ``.json``, otherwise YAML (which also reads JSON)."""
    try:
        if not path.is_file():
            raise FormError("申请表文件不存在")
        if path.stat().st_size > MAX_FORM_BYTES:
            raise FormError(f"申请表文件过大（超过{MAX_FORM_BYTES // 1000}KB）")
        data = path.read_bytes()
    except OSError as err:
        raise FormError("无法读取申请表文件") from err
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise FormError("申请表文件应为UTF-8编码") from err
    if not text.strip():
        raise FormError("申请表文件为空")
    if path.suffix.lower() == ".json":
        return _parse_json(text)
    return _parse_yaml(text)


def _parse_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise FormError(f"申请表不是有效的JSON（第{err.lineno}行第{err.colno}列）") from err
    except RecursionError as err:
        raise FormError("申请表嵌套层次过深") from err


def _parse_yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        # Only the position: the YAML error text quotes the line, which may hold personal data.
        mark = err.problem_mark or err.context_mark
        where = f"（第{mark.line + 1}行第{mark.column + 1}列）" if mark is not None else ""
        raise FormError(f"申请表不是有效的YAML{where}") from err
    except (yaml.YAMLError, RecursionError) as err:
        raise FormError("申请表不是有效的YAML") from err

