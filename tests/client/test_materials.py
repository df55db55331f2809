"""Scanned materials attached by their content and stored once (client/materials.py)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from client.errors import OperationRefused
from client.materials import MaterialFile, attach_materials, store_materials
from domain.models import Problem
from tests.factories import valid_form


def test_attach_materials_replaces_files_by_references(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"scan a")
    (tmp_path / "b.pdf").write_bytes(b"scan b")
    form = valid_form(materials=[
        {"kind": "death_certificate", "file": "a.pdf"},
        {"kind": "id_card", "sha256": "c" * 64, "size": 3},
        {"kind": "household_register", "file": str(tmp_path / "b.pdf"), "size": 6},
        {"kind": "bad", "file": "missing.pdf"},
        {"kind": "wrong_hash", "file": "a.pdf", "sha256": "d" * 64},
    ])
    attached = attach_materials(form, tmp_path)
    materials = attached.form["materials"]
    assert materials[0] == {"kind": "death_certificate", "sha256": hashlib.sha256(b"scan a").hexdigest(), "size": 6}
    assert materials[1] == {"kind": "id_card", "sha256": "c" * 64, "size": 3}
    assert materials[2]["sha256"] == hashlib.sha256(b"scan b").hexdigest()
    assert [p.field for p in attached.problems] == ["materials.3.file", "materials.4.sha256"]
    assert attached.failed == {3, 4}
    assert form["materials"][0] == {"kind": "death_certificate", "file": "a.pdf"}  # the input is untouched

    merged = attached.merge([Problem(field="materials.3.sha256", message="x"), Problem(field="applicant.phone",
                                                                                        message="y")])
    assert [p.field for p in merged] == ["applicant.phone", "materials.3.file", "materials.4.sha256"]

    store = tmp_path / "store"
    store_materials(attached.files, store)
    store_materials(attached.files, store)  # write once: a second store changes nothing
    for item in attached.files:
        assert (store / item.sha256).read_bytes() == item.path.read_bytes()
    assert sorted(p.name for p in store.iterdir()) == sorted({f.sha256 for f in attached.files})


def test_a_file_changed_while_it_is_stored_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.pdf").write_bytes(b"scan a")
    changed = MaterialFile(path=tmp_path / "a.pdf", sha256="0" * 64, size=6)
    with pytest.raises(OperationRefused, match="被改动"):
        store_materials([changed], tmp_path / "store")
    assert list((tmp_path / "store").iterdir()) == []
