"""The stop date of a termination and who may be paid without a recorded proof (domain/entitlement.py)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.catalogue import default_catalogue
from domain.entitlement import proof_needed, proven_at_intake, stop_date
from domain.enums import Channel, MaterialKind, MatterCode, Relationship
from domain.models import Application, MaterialRef
from tests.workflows.helpers import application

CATALOGUE = default_catalogue()
PROOFS = (MaterialKind.RELATIONSHIP_PROOF, MaterialKind.SUCCESSION_NOTARISATION)


@pytest.mark.parametrize(("code", "died", "stops"), [
    (MatterCode.SOCIAL_ASSISTANCE_TERMINATION, date(2026, 11, 16), date(2026, 12, 1)),
    # The month after a December death is the next year's January.
    (MatterCode.DISABILITY_SUBSIDY_TERMINATION, date(2026, 12, 31), date(2027, 1, 1)),
    (MatterCode.PREFERENTIAL_BENEFIT_TERMINATION, date(2026, 12, 31), date(2026, 12, 31)),
    (MatterCode.INSTITUTION_RETIREE_DEATH_TERMINATION, date(2026, 2, 28), date(2026, 2, 28)),
    (MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL, date(2026, 2, 28), None),
])
def test_each_termination_stops_by_its_rule(code: MatterCode, died: date, stops: date | None) -> None:
    assert stop_date(CATALOGUE.definition(code), died) == stops


def _as(relationship: Relationship, *kinds: str, channel: Channel = Channel.WINDOW) -> Application:
    app = application()
    refs = tuple(MaterialRef(kind=kind, sha256="e" * 64, size=1000) for kind in kinds)
    return app.model_copy(update={"channel": channel, "materials": (*app.materials, *refs),
                                  "applicant": app.applicant.model_copy(update={"relationship": relationship})})


@pytest.mark.parametrize("relationship", [Relationship.SPOUSE, Relationship.CHILD, Relationship.PARENT])
def test_spouse_child_and_parent_are_paid_on_the_household_register(relationship: Relationship) -> None:
    assert proof_needed(CATALOGUE.definition(MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL), _as(relationship),
                        proven=False) == ()


@pytest.mark.parametrize("relationship", [Relationship.CHILD_IN_LAW, Relationship.SIBLING, Relationship.OTHER_FAMILY])
def test_anyone_else_waits_for_a_proof_unless_one_is_recorded(relationship: Relationship) -> None:
    hpf = CATALOGUE.definition(MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL)
    assert proof_needed(hpf, _as(relationship), proven=False) == PROOFS
    assert proof_needed(hpf, _as(relationship), proven=True) == ()
    # A matter that pays nothing, or a case started before the rule (no entitled list), waits for nothing.
    assert proof_needed(CATALOGUE.definition(MatterCode.SOCIAL_ASSISTANCE_TERMINATION), _as(relationship),
                        proven=False) == ()
    assert proof_needed(hpf.model_copy(update={"entitled_payees": None}), _as(relationship), proven=False) == ()


def test_a_proof_counts_at_intake_only_when_brought_to_the_window() -> None:
    assert proven_at_intake(_as(Relationship.SIBLING, "succession_notarisation"), PROOFS) == (
        MaterialKind.SUCCESSION_NOTARISATION)
    assert proven_at_intake(_as(Relationship.SIBLING), PROOFS) is None
    assert proven_at_intake(_as(Relationship.SIBLING, "relationship_proof", channel=Channel.ONLINE), PROOFS) is None
