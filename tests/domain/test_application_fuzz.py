"""Property tests: whatever a form file parses to, intake answers and never raises or leaks."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.application import format_problems, validate_application
from domain.models import Application, Problem
from domain.policy import Policy
from tests.factories import (
    APPLICANT_CARD,
    APPLICANT_ID,
    APPLICANT_PHONE,
    DECEASED_CARD,
    DECEASED_ID,
    TODAY,
    make_card_number,
    make_id_number,
    unique_form,
    valid_form,
)

POLICY = Policy()
FUZZ = settings(max_examples=300, deadline=None)

FORM_KEYS = sorted(
    {
        "channel",
        "deceased",
        "death_certificate",
        "applicant",
        "bank_account",
        "situations",
        "matters",
        "materials",
        "name",
        "id_number",
        "death_date",
        "phone",
        "card_number",
        "bank_card",
        "kind",
        "sha256",
        "size",
        "pension_status",
        "issuer_type",
        "relationship",
    }
)
SECRETS = [DECEASED_ID, APPLICANT_ID, DECEASED_ID.lower(), APPLICANT_PHONE, DECEASED_CARD, APPLICANT_CARD]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(
        [
            *SECRETS,
            "window",
            "online",
            "home",
            "medical",
            "固阳县",
            "中心城区",
            "hpf.death_withdrawal",
            "2026-11-16",
            "2026-02-30",
            "+86",
        ]
    ),
    st.dates(),
    st.datetimes(),
    st.binary(max_size=8),
)
json_like = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(st.one_of(st.sampled_from(FORM_KEYS), st.text(max_size=8)), children, max_size=6),
    ),
    max_leaves=40,
)


def assert_answer(result: object) -> list[Problem]:
    """An Application, or a non-empty list of Chinese problems; the problems are returned."""
    if isinstance(result, Application):
        return []
    assert isinstance(result, list) and result
    assert all(isinstance(problem, Problem) and problem.message for problem in result)
    return result


def assert_no_secret(problems: list[Problem], secrets: list[str]) -> None:
    text = format_problems(problems) + "\n".join(problem.field for problem in problems)
    for secret in secrets:
        assert secret not in text


@FUZZ
@given(json_like)
def test_arbitrary_structures_never_raise(raw: object) -> None:
    problems = assert_answer(validate_application(raw, POLICY, TODAY))
    assert_no_secret(problems, SECRETS)


@FUZZ
@given(st.dictionaries(st.sampled_from(FORM_KEYS), json_like, max_size=8))
def test_forms_with_known_sections_of_any_shape_never_raise(raw: dict[str, Any]) -> None:
    problems = assert_answer(validate_application(raw, POLICY, TODAY))
    assert_no_secret(problems, SECRETS)


def paths(value: object, prefix: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Every path into a form: dict keys and list indexes."""
    found: list[tuple[object, ...]] = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(paths(child, (*prefix, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(paths(child, (*prefix, index)))
    return found


def mutate(form: dict[str, Any], path: tuple[object, ...], action: str, value: object) -> None:
    parent: Any = form
    for step in path[:-1]:
        parent = parent[step]
    last: Any = path[-1]
    if action == "delete":
        del parent[last]
    elif action == "add" and isinstance(parent, dict):
        parent[value if isinstance(value, str) else str(value)] = value
    else:
        parent[last] = value


@st.composite
def mutated_forms(draw: st.DrawFn) -> dict[str, Any]:
    form = unique_form(draw(st.integers(min_value=0, max_value=9_999_999)))
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        candidates = paths(form)
        if not candidates:
            break
        path = draw(st.sampled_from(candidates))
        action = draw(st.sampled_from(["replace", "replace", "delete", "add"]))
        mutate(form, path, action, draw(json_like))
    return form


@FUZZ
@given(mutated_forms())
def test_mutated_valid_forms_never_raise_nor_echo_identity_numbers(form: dict[str, Any]) -> None:
    original = copy.deepcopy(form)
    result = validate_application(form, POLICY, TODAY)
    assert form == original, "validation must not change its input"
    problems = assert_answer(result)
    secrets = SECRETS + [value for value in _strings(form) if len(value) == 18 and value[:17].isdigit()]
    assert_no_secret(problems, secrets)
    if isinstance(result, Application):
        # What was accepted validates again to the same application.
        assert validate_application(result.model_dump(mode="json"), POLICY, TODAY) == result


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, child in value.items() for s in _strings(key) + _strings(child)]
    if isinstance(value, list):
        return [s for child in value for s in _strings(child)]
    return []


@FUZZ
@given(st.integers(min_value=0, max_value=9_999_999))
def test_unique_forms_are_always_accepted(seed: int) -> None:
    assert isinstance(validate_application(unique_form(seed), POLICY, TODAY), Application)


@FUZZ
@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=TODAY - timedelta(days=1)),
    seq=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_a_single_wrong_digit_in_an_identity_number_is_refused(
    birth: date, seq: int, position: int, delta: int
) -> None:
    number = make_id_number(birth, seq)
    assert (
        isinstance(validate_application(valid_form(applicant__id_number=number), POLICY, TODAY), Application)
        or number == DECEASED_ID
    )
    wrong = number[:position] + str((int(number[position]) + delta) % 10) + number[position + 1 :]
    problems = assert_answer(validate_application(valid_form(applicant__id_number=wrong), POLICY, TODAY))
    assert any(problem.field == "applicant.id_number" for problem in problems)
    assert_no_secret(problems, [number, wrong])


@FUZZ
@given(
    length=st.integers(min_value=12, max_value=19),
    seq=st.integers(min_value=0, max_value=10**12),
    position=st.integers(min_value=0, max_value=18),
    delta=st.integers(min_value=1, max_value=9),
)
def test_a_single_wrong_digit_in_a_bank_card_is_refused(length: int, seq: int, position: int, delta: int) -> None:
    card = make_card_number("62", length, seq)
    accepted = validate_application(valid_form(deceased__bank_card=card), POLICY, TODAY)
    assert isinstance(accepted, Application)
    position %= length
    wrong = card[:position] + str((int(card[position]) + delta) % 10) + card[position + 1 :]
    problems = assert_answer(validate_application(valid_form(deceased__bank_card=wrong), POLICY, TODAY))
    assert [problem.field for problem in problems] == ["deceased.bank_card"]
    assert_no_secret(problems, [card, wrong])


@FUZZ
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2030, 12, 31)))
def test_death_dates_are_judged_against_today(when: datetime) -> None:
    death_date = when.date()
    form = valid_form(deceased__death_date=death_date.isoformat(), deceased__death_circumstance="medical")
    result = validate_application(form, POLICY, TODAY)
    future = [p for p in assert_answer(result) if p.message == "死亡日期不能晚于今天"]
    assert bool(future) == (death_date > TODAY)
