"""What the client side tells its callers when it cannot do something, free of personal data.

Refusals are one Chinese line each; the CLI turns them into exit codes (starter/errors.py), the portal into
its pages. ``configuration_problem`` is the one Chinese line for a configuration nothing can start with: the
CLI, the worker, the portal and the notification dispatcher all say it so.
"""

from __future__ import annotations

from activities.calendar import OverrideFileError
from domain.catalogue import CatalogueError
from runtime.keys import KeyError_
from runtime.policy_file import PolicyFileError
from runtime.temporal import TlsSettingsError


class OperationRefused(Exception):
    """An expected refusal: the message is Chinese, one line, free of personal data."""

    def __init__(self, message: str, *, case_number: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.case_number = case_number


class DuplicateCase(OperationRefused):
    pass


class NotFound(OperationRefused):
    pass


def configuration_problem(exc: BaseException) -> str | None:
    """The Chinese line for a configuration problem; None for anything else. Each names the setting or file
    and the problem; none repeats a key or a value from a file."""
    if isinstance(exc, KeyError_):
        return f"密钥配置有误：{exc}"
    if isinstance(exc, PolicyFileError):
        return f"政策配置文件有误：{exc}"
    if isinstance(exc, CatalogueError):
        return str(exc)
    if isinstance(exc, OverrideFileError):
        return f"节假日覆盖文件有误：{exc}"
    if isinstance(exc, TlsSettingsError):
        return f"Temporal TLS配置有误：{exc}"
    return None
