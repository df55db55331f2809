"""Load the county's policy: the built-in defaults with the county's overrides applied.

What the file leaves out keeps its default: a nested object (``ladder``, ``waits``, ``window`` …) keeps
every field the file does not name (pydantic fills them), ``matters`` is patched per matter code, and
``channel_departments`` per channel, so a file that sets only ``online`` still has the window reach every
department. Lists (materials, certificate issuers, supervisors) are replaced whole: a list names exactly
what is allowed.

``contacts.departments`` and ``contacts.department_heads`` are the exception, on purpose: their defaults are
placeholder numbers, so a department the file leaves out has no number (the dispatcher gives its notices
up, logged as ``notification_failed``) rather than being texted to a placeholder that may be a stranger's.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from domain.catalogue import active_catalogue, load_catalogue, use_catalogue
from domain.policy import Policy
from runtime.settings import Settings


class PolicyFileError(Exception):
    """The policy file cannot be used. The message is one line naming the file and the problem, and never
    repeats a value from the file (it may hold staff numbers)."""


def load_county(settings: Settings) -> Policy:
    """At the start of the worker, the CLI, the portal and the dispatcher: the county's catalogue
    (``SHENHOU_CATALOGUE_FILE``; unset: the packaged default) made the process's, then its policy over it.
    Raises ``CatalogueError`` (every problem of the catalogue) or ``PolicyFileError``."""
    use_catalogue(load_catalogue(settings.catalogue_file))
    return load_policy(settings.policy_file)


def load_policy(path: Path | None) -> Policy:
    """Overrides: top-level Policy fields, and `matters: {code: {time_limit_working_days, max_amount}}`, over
    the process's catalogue (domain/catalogue.py), whose version the policy names."""
    catalogue = active_catalogue()
    version, labels = catalogue.version, catalogue.added_labels()
    if path is None:
        return Policy(catalogue_version=version, catalogue_labels=labels)
    try:
        text = path.read_text(encoding="utf-8")
        data: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as err:
        raise PolicyFileError(f"cannot read policy file {path}: {_reading_problem(err)}") from err
    if data is None:
        return Policy(catalogue_version=version, catalogue_labels=labels)
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
        return Policy.model_validate({**merged_over(base, data), "matters": matters, "catalogue_version": version,
                                     "catalogue_labels": labels})
    except ValidationError as err:
        raise PolicyFileError(f"invalid policy file {path}: {_invalid_values(err)}") from err


def merged_over(default: Policy, given: Mapping[str, Any]) -> dict[str, Any]:
    """``given`` with ``channel_departments`` completed, channel by channel, from ``default``.

    Anything that is not a mapping where one is expected is passed on untouched, for pydantic to refuse
    with its own message.
    """
    merged = dict(given)
    channels = given.get("channel_departments")
    if isinstance(channels, Mapping):
        # Default keys as the file writes them, so a channel the file names replaces its default.
        merged["channel_departments"] = {
            **{channel.value: departments for channel, departments in default.channel_departments.items()},
            **channels,
        }
    return merged


def _reading_problem(err: Exception) -> str:
    if isinstance(err, yaml.MarkedYAMLError) and err.problem_mark is not None:
        # Not str(err): it quotes the offending line of the file.
        mark = err.problem_mark
        return f"not valid YAML at line {mark.line + 1}, column {mark.column + 1}: {err.problem or err.context}"
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON at line {err.lineno}, column {err.colno}: {err.msg}"
    if isinstance(err, OSError):
        return err.strerror or type(err).__name__
    return " ".join(str(err).split())


def _invalid_values(err: ValidationError) -> str:
    """Where each invalid value is and why, on one line, without the value."""
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'policy'}: {item['msg']}"
        for item in err.errors(include_url=False, include_input=False)
    )
