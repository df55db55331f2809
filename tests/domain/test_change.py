"""What committing a change leaves behind (domain/change.py), without a server: the refusals kept, the audit
lines and notices keyed so that a retried register write adds nothing."""

from __future__ import annotations

from domain.change import KEEP_REFUSALS, logged_refusal, recorded, refusal
from domain.enums import EscalationStep, NotificationKind, Recipient
from tests.domain.matters import NOW, PAYS, matter, reviewing, rungs


def test_refusals_keep_the_latest_twenty_and_count_them_all() -> None:
    state = reviewing()
    for index in range(25):
        state, audit = refusal(state, matter(), "approve", f"原因{index}", None, NOW)
    assert state.refused_total == 25 and len(state.refused) == KEEP_REFUSALS
    assert state.refused[-1].reason == "原因24" and state.timeline == ()
    assert audit.key == f"{PAYS.value}/0025" and audit.event == "拒绝操作approve：原因24"
    _, by = refusal(state, matter(), "approve", "无权", "人社官", NOW)
    assert by.event == "拒绝人社官的操作approve：无权" and by.actor == "人社官"


def test_a_recorded_change_is_keyed_so_a_retried_write_adds_nothing() -> None:
    note = (NotificationKind.DEADLINE_WARNING, Recipient.DEPARTMENT, "预警", rungs()[0])
    plain = (NotificationKind.MATTER_APPROVED, Recipient.FAMILY, "通过", None)
    state, audit, sent = recorded(reviewing(seq=6, generation=1), matter(), "预警", "system",
                                              (note, plain), NOW)
    assert state.seq == 7 and state.timeline[-1].event == "预警" and audit.key == f"{PAYS.value}/0007"
    assert [n.key for n in sent] == [f"{PAYS.value}/deadline_warning/department/1/{EscalationStep.WARNING.value}/0",
                                     f"{PAYS.value}/matter_approved/family/0007"]
    # The family's notices name no department; staff notices name the matter's.
    assert sent[0].department is not None and sent[1].department is None


def test_a_flood_of_refusals_logs_a_bounded_number_of_lines() -> None:
    """Every refusal is audited; the log tells of the first ten and then one in a hundred (with the total)."""
    logged = [total for total in range(1, 6_001) if logged_refusal(total)]
    assert logged[:10] == list(range(1, 11))
    assert len(logged) == 70
    assert all(total % 100 == 0 for total in logged[10:])
