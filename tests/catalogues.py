"""Catalogues a county writes (domain/catalogue.py): the packaged default with a department and a matter added,
or a matter switched off; and the process's catalogue swapped for a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import yaml

from domain.catalogue import DEFAULT_FILE, Catalogue, catalogue_from, default_catalogue, use_catalogue
from domain.enums import Department, MatterCode

TRAFFIC = Department("traffic")
DRIVING_LICENCE = MatterCode("traffic.driving_licence_cancellation")


def default_data() -> dict[str, Any]:
    data = yaml.safe_load(DEFAULT_FILE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def with_traffic(version: str = "2027-01-traffic", time_limit: int = 5) -> Catalogue:
    """The default, plus 交警大队 and its 驾驶证注销 (5 working days, nothing paid), selected by a yes/no question."""
    data = default_data()
    data["version"] = version
    data["departments"].insert(-1, {"code": "traffic", "name": "公安局交通管理大队", "officer_role": "jj-staff",
                                    "channels": ["window", "online"]})
    data["questions"].append({"code": "driving_licence", "label": "是否持有机动车驾驶证",
                              "prompt": "持有机动车驾驶证", "kind": "bool"})
    data["matters"].append({
        "code": "traffic.driving_licence_cancellation", "department": "traffic", "name": "死亡人员机动车驾驶证注销",
        "short_name": "驾驶证注销", "pays_family": False, "time_limit_working_days": time_limit,
        "selected_by": {"question": "driving_licence", "answer": True},
    })
    return catalogue_from(data)


def switched_off(code: str) -> Catalogue:
    data = default_data()
    data["version"] = f"2027-01-without-{code}"
    for matter in data["matters"]:
        if matter["code"] == code:
            matter["enabled"] = False
    return catalogue_from(data)


@contextmanager
def catalogue_in_use(catalogue: Catalogue) -> Iterator[Catalogue]:
    """``catalogue`` as the process's (as the worker, CLI and portal make it at start), the default after."""
    use_catalogue(catalogue)
    try:
        yield catalogue
    finally:
        use_catalogue(default_catalogue())
