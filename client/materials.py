"""Scanned materials: attached to an application by their content, stored once.

Nothing here repeats a file name in a message: a file name may carry a person's name. Scanned files go into
the content-addressed materials store (``<dir>/<sha256>``, written once); only ``{kind, sha256, size}``
references travel on into the application.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from client.errors import OperationRefused
from domain.models import Problem

MAX_MATERIAL_BYTES = 200 * 1024 * 1024
_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class MaterialFile:
    """A scanned file found on disk, hashed but not yet stored."""

    path: Path
    sha256: str
    size: int


@dataclass
class AttachedMaterials:
    """The form with every ``file:`` entry replaced by its reference, the files to store, problems."""

    form: Any
    files: list[MaterialFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    # Entries whose file could not be attached: intake's own problems about them are redundant.
    failed: set[int] = field(default_factory=set)

    def merge(self, problems: list[Problem]) -> list[Problem]:
        """Intake's problems plus these, without intake's repeats about the failed entries."""
        prefixes = tuple(f"materials.{index}." for index in self.failed)
        kept = [p for p in problems if not (prefixes and p.field.startswith(prefixes))]
        return kept + self.problems


def _hash_file(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if size > MAX_MATERIAL_BYTES:
                raise ValueError("too large")
    return digest.hexdigest(), size


def attach_materials(form: Any, base_dir: Path) -> AttachedMaterials:
    """Replace ``{kind, file}`` material entries by ``{kind, sha256, size}``.

    A relative ``file`` is read from ``base_dir`` (the form's folder). An entry that also states
    ``sha256``/``size`` must agree with the file. Problems are returned, not raised, so they are
    told together with the form's other problems.
    """
    result = AttachedMaterials(form=form)
    if not isinstance(form, Mapping) or not isinstance(form.get("materials"), list):
        return result
    form = copy.deepcopy(dict(form))
    result.form = form
    materials: list[Any] = form["materials"]
    for index, entry in enumerate(materials):
        if not isinstance(entry, Mapping) or "file" not in entry:
            continue
        problems_before = len(result.problems)
        _attach_one(result, materials, index, entry, base_dir)
        if len(result.problems) > problems_before:
            result.failed.add(index)
    return result


def _attach_one(
    result: AttachedMaterials, materials: list[Any], index: int, entry: Mapping[str, Any], base_dir: Path
) -> None:
    label = f"第{index + 1}份材料"
    where = f"materials.{index}.file"

    def problem(message: str, at: str = where) -> None:
        result.problems.append(Problem(field=at, message=f"{label}{message}"))

    raw = entry["file"]
    if not isinstance(raw, str) or not raw.strip():
        return problem("的文件路径应为文字")
    path = Path(raw.strip()).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    if not path.is_file():
        return problem("的文件不存在")
    try:
        sha256, size = _hash_file(path)
    except ValueError:
        return problem(f"的文件过大（超过{MAX_MATERIAL_BYTES // (1024 * 1024)}MB）")
    except OSError:
        return problem("的文件无法读取")
    stated = entry.get("sha256")
    if isinstance(stated, str) and stated.strip().lower() != sha256:
        return problem("的sha256摘要与文件内容不符", f"materials.{index}.sha256")
    if "size" in entry and entry["size"] != size:
        return problem("的文件大小与文件不符", f"materials.{index}.size")
    reference = {key: value for key, value in entry.items() if key != "file"}
    reference.update(sha256=sha256, size=size)
    materials[index] = reference
    result.files.append(MaterialFile(path=path, sha256=sha256, size=size))
    return None


def store_materials(files: list[MaterialFile], store_dir: Path) -> None:
    """Copy each file to ``store_dir/<sha256>`` once; an existing copy is never overwritten."""
    if not files:
        return
    store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for item in files:
        target = store_dir / item.sha256
        if target.exists():
            continue
        fd, tmp_name = tempfile.mkstemp(dir=store_dir, prefix=".incoming-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, item.path.open("rb") as src:
                digest = hashlib.sha256()
                while chunk := src.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
            if digest.hexdigest() != item.sha256:
                raise OperationRefused("材料文件在登记过程中被改动，请重新提交")
            os.chmod(tmp, 0o600)
            try:
                os.link(tmp, target)  # fails if another process stored it first: write once
            except FileExistsError:
                pass
            except OSError:
                if not target.exists():
                    shutil.move(tmp, target)
        except OSError as err:
            raise OperationRefused("无法保存材料文件，请检查数据目录的权限和空间") from err
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
