"""Two catalogue rules of what a family is entitled to (DOMAIN.md §5, §9): when a terminated benefit stops, and
whether the applicant may be paid on the household register alone or only once the window records a proof."""

from __future__ import annotations

from datetime import date

from domain.catalogue import MatterDefinition
from domain.enums import Channel, MaterialKind, StopFrom
from domain.models import Application


def stop_date(definition: MatterDefinition, death_date: date) -> date | None:
    """The day a termination's benefit stops: the date of death, or the first day of the month after it; None
    for a matter that terminates nothing."""
    if definition.stops_from is None:
        return None
    if definition.stops_from is StopFrom.DEATH_DATE:
        return death_date
    return date(death_date.year + death_date.month // 12, death_date.month % 12 + 1, 1)


def proof_needed(definition: MatterDefinition, application: Application, proven: bool) -> tuple[MaterialKind, ...]:
    """The proofs of which the window must record one before this matter's money is instructed: none when the
    matter pays nothing, its case began before the rule, the applicant's relationship is entitled, or the window
    has recorded a proof (``proven``: at the window's intake, or since)."""
    entitled = definition.entitled_payees
    if entitled is None or proven or application.applicant.relationship in entitled:
        return ()
    return definition.payee_proofs


def proven_at_intake(application: Application, proofs: tuple[MaterialKind, ...]) -> MaterialKind | None:
    """The proof a window application brought with it (the clerk has seen the original at the counter); an
    online upload alone is not a proof the window has checked."""
    if application.channel is not Channel.WINDOW:
        return None
    kinds = {ref.kind for ref in application.materials}
    return next((proof for proof in proofs if proof.value in kinds), None)
