"""Places as the county defines them (the catalogue's ``places``, docs/catalogue.md), matched as people write them.

Spaces and the province in front are dropped before comparing; so is the city, but only when the county follows it:
"包头市中心城区" is the city's districts, never the county's 中心城区. What remains is the county itself, or one of its
places (a town, the 中心城区, a funeral home, a 派出所: the official name or a listed variant), with or without the
county in front. When the catalogue's lists are for another county than the policy's, or empty, only county-level
names are known: a place is in the county when it is the county or starts with it.
"""

from __future__ import annotations

import re

from domain.catalogue import Place, Places, Town, active_catalogue
from domain.policy import Policy

_SPACES = re.compile(r"\s+")
_PROVINCE_SHORT = re.compile(r"(自治区|省|市)$")
# What a written place ends with when it is a place name (and may be repeated in a problem): a person's name or a
# number never does.
_PLACE_SUFFIX = re.compile(r"(省|自治区|市|盟|县|旗|区|镇|乡|苏木|街道|村|嘎查|社区|城|殡仪馆|火葬场|派出所)$")
_PLACE_MAX_CHARS = 30


def _places(policy: Policy, places: Places | None) -> Places | None:
    """The catalogue's lists, when they are the policy's county's."""
    found = places if places is not None else active_catalogue().places
    return found if found.county == policy.county else None


def _county_names(policy: Policy, places: Places | None) -> tuple[str, ...]:
    names = [policy.county, *(places.county_variants if places else ())]
    short = policy.county.removesuffix("县")
    if short != policy.county and len(short) >= 2:
        names.append(short)
    return tuple(sorted(dict.fromkeys(names), key=len, reverse=True))


def _core(text: str, policy: Policy, places: Places | None) -> str | None:
    """The place with spaces, the province and the city (when the county follows it) dropped; None when it is a
    place of the city outside the county ("包头市中心城区", "包头市昆都仑区")."""
    value = _SPACES.sub("", text)
    province_short = _PROVINCE_SHORT.sub("", policy.province).removesuffix("蒙古族").strip()
    for prefix in sorted({policy.province, province_short} - {""}, key=len, reverse=True):
        if value.startswith(prefix) and value != prefix:
            value = value[len(prefix):]
            break
    counties = _county_names(policy, places)
    for city in sorted({policy.city, policy.city.removesuffix("市")} - {""}, key=len, reverse=True):
        if value.startswith(city) and value != city:
            rest = value[len(city):]
            if not rest.startswith(counties):
                return None
            value = rest
            break
    return value


def _without_county(value: str, policy: Policy, places: Places | None) -> str:
    for county in _county_names(policy, places):
        if value.startswith(county):
            return value[len(county):]
    return value


def _matching(value: str, entries: tuple[Place, ...], policy: Policy, places: Places | None) -> Place | None:
    """The entry ``value`` names (the whole name or variant, with or without the county in front)."""
    rest = _without_county(value, policy, places)
    for entry in entries:
        names = entry.names()
        if value in names or rest in names:
            return entry
    return None


def is_county(text: str, policy: Policy, places: Places | None = None) -> bool:
    """Whether a written place is the county itself ("包头市固阳县", "固阳")."""
    lists = _places(policy, places)
    value = _core(text, policy, lists)
    return value is not None and value in _county_names(policy, lists)


def town(text: str, policy: Policy, places: Places | None = None) -> Town | None:
    """The county's town a written place is, or lies in ("金山镇", "固阳县金山镇某村")."""
    lists = _places(policy, places)
    value = _core(text, policy, lists)
    if value is None or lists is None:
        return None
    found = _matching(value, lists.towns, policy, lists)
    if isinstance(found, Town):
        return found
    rest = _without_county(value, policy, lists)
    return next((t for t in lists.towns if rest.startswith(t.name)), None)


def in_county(text: str, policy: Policy, places: Places | None = None) -> bool:
    """Whether a written place is the county or one of its places (towns, 中心城区, funeral homes)."""
    lists = _places(policy, places)
    value = _core(text, policy, lists)
    if value is None:
        return False
    if value in _county_names(policy, lists):
        return True
    if lists is None or not lists.towns:
        return value.startswith(_county_names(policy, lists))
    entries = (*lists.towns, *((lists.central_area,) if lists.central_area else ()), *lists.funeral_homes)
    return _matching(value, entries, policy, lists) is not None or town(text, policy, lists) is not None


def in_area(text: str, policy: Policy, places: Places | None = None) -> bool:
    """Whether a written insured area is the county's 中心城区, or a town it covers (the county seat)."""
    lists = _places(policy, places)
    value = _core(text, policy, lists)
    if value is None:
        return False
    rest = _without_county(value, policy, lists)
    if policy.insured_area in (value, rest):
        return True
    area = lists.central_area if lists is not None else None
    if area is None:
        return False
    if _matching(value, (area,), policy, lists) is not None:
        return True
    covered = tuple(t for t in lists.towns if t.code in area.towns) if lists is not None else ()
    return _matching(value, covered, policy, lists) is not None


def funeral_home(text: str, policy: Policy, places: Places | None = None) -> Place | None:
    """The county's funeral home a written name is."""
    lists = _places(policy, places)
    value = _core(text, policy, lists)
    if value is None or lists is None:
        return None
    return _matching(value, lists.funeral_homes, policy, lists)


def funeral_homes_configured(policy: Policy, places: Places | None = None) -> bool:
    lists = _places(policy, places)
    return lists is not None and bool(lists.funeral_homes)


def police_station(hukou_town: Town | None, policy: Policy, places: Places | None = None) -> Place | None:
    """The 户籍地派出所 of a household registered in ``hukou_town``."""
    lists = _places(policy, places)
    if hukou_town is None or lists is None or hukou_town.police_station is None:
        return None
    return lists.police_station(hukou_town.police_station)


def cremation_problems(funeral_home_name: str, county: str | None, policy: Policy,
                       places: Places | None = None) -> tuple[str, str | None, list[str]]:
    """The funeral home's certificate in the county's terms: its funeral home's official name and the county's
    name (a county written with its province or city, "包头市固阳县", is the county), and every problem, each
    naming what was written when it reads as a place."""
    problems: list[str] = []
    home_name = funeral_home_name
    if funeral_homes_configured(policy, places):
        home = funeral_home(funeral_home_name, policy, places)
        if home is None:
            name = shown(funeral_home_name)
            problems.append(f"{f'殡仪馆“{name}”' if name else '该殡仪馆'}不在{policy.county}殡仪馆名录中")
        else:
            home_name = home.name
    if county is None:
        return home_name, None, problems
    if in_county(county, policy, places):
        return home_name, policy.county, problems
    name = shown(county)
    problems.append(f"{f'火化地“{name}”' if name else '火化地'}不在{policy.county}")
    return home_name, county, problems


def shown(text: str) -> str | None:
    """``text`` as a problem may name it: only what reads as a place name (never a person's name or a number)."""
    value = _SPACES.sub("", text)
    if len(value) <= _PLACE_MAX_CHARS and _PLACE_SUFFIX.search(value) and not any(ch.isdigit() for ch in value):
        return value
    return None


def choices(policy: Policy, places: Places | None = None) -> dict[str, tuple[tuple[str, str], ...]]:
    """What the portal offers: the towns, the insured areas (中心城区 and the towns it covers) and the funeral homes,
    each as (value intake accepts, name shown)."""
    lists = _places(policy, places)
    if lists is None:
        return {"towns": (), "insured_areas": ((policy.insured_area, policy.insured_area),), "funeral_homes": ()}
    area = lists.central_area
    areas: list[tuple[str, str]] = [(area.name, area.name)] if area else [(policy.insured_area, policy.insured_area)]
    if area is not None:
        areas += [(t.name, t.name) for t in lists.towns if t.code in area.towns]
    return {
        "towns": tuple((t.name, t.name + ("（县城）" if t.seat else "")) for t in lists.towns),
        "insured_areas": tuple(areas),
        "funeral_homes": tuple((f.name, f.name) for f in lists.funeral_homes),
    }
