"""Sealed values in the register: what is stored, what opens, and what refuses to."""

from __future__ import annotations

import base64
import secrets

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from register.sealed_fields import (
    APPLICANT_CARD,
    APPLICATION_FIELDS,
    DECEASED_ID,
    PHONE,
    application_place,
    opened_application,
    sealed_application,
    stored_value,
)
from register.sealing import PREFIX, Sealer, UnsealError, derived_lookup_key, is_sealed, key_id_of
from runtime.keys import Keys
from tests.factories import APPLICANT_CARD as CARD
from tests.factories import APPLICANT_ID, APPLICANT_NAME, APPLICANT_PHONE, valid_form
from tests.factories import DECEASED_ID as DEAD_ID

CASE = "SH-ABCDEFGH2345"
OTHER_CASE = "SH-ZYXWVUTS7654"
CASE_KEY = secrets.token_bytes(32)
K1 = secrets.token_bytes(32)
K2 = secrets.token_bytes(32)


def sealer(active: str = "k1", **ring: bytes) -> Sealer:
    return Sealer.from_keys(Keys(case_id_key=CASE_KEY, codec_keys=ring or {"k1": K1}, active_key_id=active))


def test_a_sealed_value_names_its_key_and_hides_the_number() -> None:
    s = sealer()
    place = application_place(CASE, PHONE)
    stored = s.seal(APPLICANT_PHONE, place)
    assert stored.startswith(f"{PREFIX}k1:") and key_id_of(stored) == "k1"
    assert APPLICANT_PHONE not in stored
    assert s.seal(APPLICANT_PHONE, place) != stored  # a fresh nonce every time: equal numbers do not show
    assert s.unseal(stored, place) == APPLICANT_PHONE


def test_the_application_keeps_names_in_clear_and_seals_the_numbers() -> None:
    s = sealer()
    form = valid_form()
    stored = sealed_application(form, CASE, s)
    assert stored["applicant"]["name"] == APPLICANT_NAME
    assert stored["death_certificate"] == form["death_certificate"]
    text = repr(stored)
    for number in (APPLICANT_ID, DEAD_ID, APPLICANT_PHONE, CARD, form["deceased"]["bank_card"]):
        assert number not in text
    assert all(is_sealed(stored_value(stored, path) or "") for path in APPLICATION_FIELDS)
    assert opened_application(stored, CASE, s) == form


def test_a_value_stored_before_sealing_reads_as_it_is() -> None:
    assert sealer().unseal(APPLICANT_PHONE, application_place(CASE, PHONE)) == APPLICANT_PHONE
    assert opened_application(valid_form(), CASE, sealer()) == valid_form()


def test_a_sealed_value_moved_to_another_case_or_field_does_not_open() -> None:
    s = sealer()
    card = s.seal(CARD, application_place(CASE, APPLICANT_CARD))
    with pytest.raises(UnsealError):
        s.unseal(card, application_place(OTHER_CASE, APPLICANT_CARD))
    with pytest.raises(UnsealError):
        s.unseal(card, application_place(CASE, DECEASED_ID))


def test_an_altered_value_or_an_unknown_key_id_is_refused_without_showing_the_number() -> None:
    s = sealer()
    place = application_place(CASE, PHONE)
    stored = s.seal(APPLICANT_PHONE, place)
    head, _, blob = stored.rpartition(":")
    raw = bytearray(base64.urlsafe_b64decode(blob + "=" * (-len(blob) % 4)))
    raw[-1] ^= 1
    altered = f"{head}:{base64.urlsafe_b64encode(bytes(raw)).rstrip(b'=').decode()}"
    with pytest.raises(UnsealError, match="altered"):
        s.unseal(altered, place)
    with pytest.raises(UnsealError, match="'k1', which is not configured") as raised:
        sealer("k2", k2=K2).unseal(stored, place)
    assert APPLICANT_PHONE not in str(raised.value)


def test_the_register_key_is_not_the_payload_key() -> None:
    """The codec key itself (what the codec server holds) does not open a register value."""
    stored = sealer().seal(APPLICANT_PHONE, application_place(CASE, PHONE))
    raw = base64.urlsafe_b64decode(stored.rpartition(":")[2] + "==")
    with pytest.raises(InvalidTag):
        AESGCM(K1).decrypt(raw[:12], raw[12:], application_place(CASE, PHONE).encode())


def test_the_lookup_hash_survives_a_rotation_and_ignores_the_check_digit_case() -> None:
    before = sealer().lookup_hash(APPLICANT_ID)
    assert sealer("k2", k1=K1, k2=K2).lookup_hash(APPLICANT_ID) == before
    assert sealer().lookup_hash(f" {APPLICANT_ID[:-1]}x ") == sealer().lookup_hash(f"{APPLICANT_ID[:-1]}X")
    assert APPLICANT_ID not in before and len(before) == 64
    other = Sealer({"k1": K1}, "k1", derived_lookup_key(secrets.token_bytes(32)))
    assert other.lookup_hash(APPLICANT_ID) != before
