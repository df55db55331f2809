"""Load the county's policy: the built-in defaults with the county's overrides applied."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domain.policy import Policy


class PolicyFileError(Exception):
    pass


def load_policy(path: Path | None) -> Policy:
    """Overrides: top-level Policy fields, and `matters: {code: {time_limit_working_days, max_amount}}`."""
    if path is None:
        return Policy()
    try:
        text = path.read_text(encoding="utf-8")
        data: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as err:
        raise PolicyFileError(f"cannot read policy file {path}: {err}") from err
    if data is None:
        return Policy()
    if not isinstance(data, dict):
        raise PolicyFileError(f"policy file {path} must hold a mapping")
    base = Policy()
    overrides = data.pop("matters", None) or {}
    try:
        if not isinstance(overrides, dict):
            raise PolicyFileError(f"'matters' in {path} must map matter codes to overrides")
        matters = []
        known = {m.code.value for m in base.matters}
        unknown = set(overrides) - known
        if unknown:
            raise PolicyFileError(f"unknown matter codes in {path}: {', '.join(sorted(unknown))}")
        for matter in base.matters:
            patch = overrides.get(matter.code.value) or {}
            matters.append(matter.model_validate({**matter.model_dump(), **patch}))
        return Policy.model_validate({**data, "matters": matters})
    except ValidationError as err:
        raise PolicyFileError(f"invalid policy file {path}: {err}") from err
