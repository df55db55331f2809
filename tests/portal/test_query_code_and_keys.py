"""Query codes need no storage: a keyed hash of the case number, with its own key in the key material."""

from __future__ import annotations

import base64
import json
import secrets
from pathlib import Path

from domain.policy import Policy
from domain.query_code import code_matches, query_code
from runtime.keys import Keys, load_keys, load_query_code_key
from runtime.settings import Settings


def test_the_code_is_eight_digits_fixed_per_case_and_key() -> None:
    key = secrets.token_bytes(32)
    code = query_code("SH-ABCDEFGH2345", key)
    assert len(code) == 8 and code.isdigit()
    assert query_code("sh-abcdefgh2345 ", key) == code
    numbers = [f"SH-ABCDEFGH{n:04d}" for n in range(200)]
    assert len({query_code(number, key) for number in numbers}) >= 198  # each case its own code
    other_key = secrets.token_bytes(32)
    assert sum(query_code(number, key) == query_code(number, other_key) for number in numbers) <= 2
    assert code_matches("SH-ABCDEFGH2345", f" {code[:4]} {code[4:]} ", key)
    assert not code_matches("SH-ABCDEFGH2345", f"{(int(code) + 1) % 10**8:08d}", key)


def test_keys_built_without_a_query_code_key_derive_one_from_the_case_number_key() -> None:
    case_key = secrets.token_bytes(32)
    first = Keys(case_id_key=case_key, codec_keys={"k": secrets.token_bytes(32)}, active_key_id="k")
    again = Keys(case_id_key=case_key, codec_keys={"k": secrets.token_bytes(32)}, active_key_id="k")
    assert len(first.query_code_key) == 32 and first.query_code_key == again.query_code_key
    assert first.query_code_key != case_key
    own = secrets.token_bytes(32)
    assert Keys(case_id_key=case_key, codec_keys={}, active_key_id="k", query_code_key=own).query_code_key == own


def test_a_new_keys_file_holds_its_own_query_code_key(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, case_id_key="", codec_keys="", query_code_key="")
    keys = load_keys(settings)
    stored = json.loads((tmp_path / "keys.json").read_text())
    assert base64.b64decode(stored["query_code_key"]) == keys.query_code_key
    assert load_query_code_key(settings) == keys.query_code_key


def test_the_environment_names_the_query_code_key(tmp_path: Path) -> None:
    own = secrets.token_bytes(32)
    settings = Settings(data_dir=tmp_path, query_code_key=base64.b64encode(own).decode())
    assert load_query_code_key(settings) == own
    assert not (tmp_path / "keys.json").exists()  # the dispatcher needs no other key
    assert load_keys(settings).query_code_key == own


def test_staff_numbers_never_travel_with_the_policy() -> None:
    # The policy goes into workflow histories; the window's place does, staff numbers do not.
    dumped = Policy().model_dump(mode="json")
    assert "contacts" not in dumped and dumped["window"]["address"]
    assert Policy.model_validate(dumped) == Policy()
