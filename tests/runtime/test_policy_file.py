"""The county's policy file: what it leaves out keeps its default, and a bad file is told in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.enums import Channel, Department, Recipient
from domain.policy import Policy
from runtime.policy_file import PolicyFileError, load_policy


def _file(tmp_path: Path, text: str, name: str = "policy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_setting_only_online_keeps_the_windows_departments(tmp_path: Path) -> None:
    policy = load_policy(_file(tmp_path, "channel_departments:\n  online: [police, hpf]\n"))
    assert policy.departments_for(Channel.ONLINE) == {Department.POLICE, Department.HPF}
    assert policy.departments_for(Channel.WINDOW) == Policy().departments_for(Channel.WINDOW)
    assert Department.MCA in policy.departments_for(Channel.WINDOW)


def test_a_channel_named_in_the_file_replaces_its_default(tmp_path: Path) -> None:
    policy = load_policy(_file(tmp_path, '{"channel_departments": {"window": ["police"]}}', "policy.json"))
    assert policy.departments_for(Channel.WINDOW) == {Department.POLICE}
    assert policy.departments_for(Channel.ONLINE) == Policy().departments_for(Channel.ONLINE)


def test_nested_objects_keep_the_fields_left_out(tmp_path: Path) -> None:
    policy = load_policy(_file(tmp_path, "ladder: {reminder_every_working_days: 2}\nwindow: {phone: '0472-8120000'}\n"))
    assert policy.ladder.reminder_every_working_days == 2
    assert policy.ladder.supervision_after_working_days == Policy().ladder.supervision_after_working_days
    assert policy.window.phone == "0472-8120000" and policy.window.address == Policy().window.address


def test_staff_numbers_left_out_are_not_the_example_numbers(tmp_path: Path) -> None:
    policy = load_policy(_file(tmp_path, "contacts:\n  departments: {police: '13900000001'}\n"))
    assert policy.contacts.number_for(Recipient.DEPARTMENT, Department.POLICE) == "13900000001"
    # An example number may belong to anyone: a department the county left out gets no text at all.
    assert policy.contacts.number_for(Recipient.DEPARTMENT, Department.HRSS) is None
    assert policy.contacts.supervisor == Policy().contacts.supervisor


def test_an_unknown_channel_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="channel_departments"):
        load_policy(_file(tmp_path, "channel_departments: {onlin: [police]}\n"))


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ladder: {reminder_every_working_days: 0}\ncontacts: {supervisor: 13912345678}\n",
         "ladder.reminder_every_working_days"),
        ("contacts: {supervisor: 13912345678}\nsupervisors: [\n  13912345678: x\n", "not valid YAML at line"),
    ],
)
def test_a_bad_file_is_one_line_naming_it_without_its_values(tmp_path: Path, text: str, problem: str) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(PolicyFileError) as raised:
        load_policy(path)
    message = str(raised.value)
    assert "\n" not in message and str(path) in message and problem in message
    assert "13912345678" not in message
