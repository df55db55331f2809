"""County and area names as people write them: "包头市固阳县", "固阳县中心城区", "内蒙古自治区包头市固阳县金山镇".

Spaces and the province and city in front are dropped before comparing; a place inside the county (a town,
the 中心城区) is in the county.
"""

from __future__ import annotations

import re

from domain.policy import Policy

_SPACES = re.compile(r"\s+")
_PROVINCE_SHORT = re.compile(r"(自治区|省|市)$")


def _prefixes(policy: Policy) -> tuple[str, ...]:
    province_short = _PROVINCE_SHORT.sub("", policy.province).removesuffix("蒙古族").strip()
    city_short = policy.city.removesuffix("市")
    return tuple(dict.fromkeys((policy.province, province_short, policy.city, city_short)))


def normalise(text: str, policy: Policy) -> str:
    value = _SPACES.sub("", text)
    changed = True
    while changed:
        changed = False
        for prefix in _prefixes(policy):
            if prefix and value.startswith(prefix) and value != prefix:
                value = value[len(prefix):]
                changed = True
    return value


def in_county(text: str, policy: Policy) -> bool:
    """Whether a written place is the county or lies inside it."""
    county = policy.county
    value = normalise(text, policy)
    return value == county or value.startswith(county) or value == county.removesuffix("县")


def in_area(text: str, policy: Policy) -> bool:
    """Whether a written insured area is the county's 中心城区 (with or without the county in front)."""
    value = normalise(text, policy)
    if value.startswith(policy.county):
        value = value[len(policy.county):]
    return value == policy.insured_area
