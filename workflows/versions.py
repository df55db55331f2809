"""Workflow shapes. A run decides its shape once, at its first workflow task, and keeps it.

``SHAPE_2026_12``: lean reports from a matter to its case, the matter's own policy slice, typed state
transitions and register writes batched per workflow task. Runs recorded without its marker keep the
first shape (``workflows/legacy``) to the end.

``SHAPE_2026_12B`` (matters only): the push to the department runs as a local activity, so a matter reaches
its department and its deadline in its first workflow task. Matters recorded with ``SHAPE_2026_12`` alone
keep pushing through the server's activity queue.

``SHAPE_2026_12C``: money and payees move only on signed statements (the paying system's reports, the window's
corrections and withdrawals; no token in any payload stands for the case); a case abandons (does not end) its
matters when its run closes, continues as new when its history grows long, and learns the outcome of a matter
its new run did not start from the engine.

``SHAPE_2026_12D`` (matters only): an officer's decision (approve, reject, request_materials, extend_deadline)
counts only with the codec server's signed statement of a verified officer of the matter's department (the
supervisor role for an extension), checked when its turn comes; where the worker does not require one (the
embedded default) a decision without it is taken and marked unverified. Refusals record who tried.

``SIGNED_REPORTS``: decided lazily, when a payment report, a payee correction or a withdrawal first reaches a
run of an earlier shape, so runs already under way take such statements only when signed from then on, while
their recorded histories replay as they were.

``VERIFIED_OFFICERS``: decided lazily, when an officer's decision is first applied in a matter of shape 2026-12,
2026-12b or 2026-12c, so matters already under way hold their remaining decisions to the rule of shape 2026-12d
(a verified officer where the worker requires one; else marked unverified), while their recorded histories replay
as they were.
``WORKING_DAY_REMINDERS``: decided lazily, when a matter first waits on something other than its ladder (an
unconfirmed or failed payment, 补正 materials, a ladder that has run out): from then on its reminders go out at
the policy's hour on working days only, each saying the true count of working days the wait has lasted, at most
the policy's number per wait. Runs recorded before it remind by calendar day as they did.
"""

from __future__ import annotations

SHAPE_2026_12 = "shape-2026-12"
SHAPE_2026_12B = "shape-2026-12b"
SHAPE_2026_12C = "shape-2026-12c"
SHAPE_2026_12D = "shape-2026-12d"
SIGNED_REPORTS = "signed-reports"
VERIFIED_OFFICERS = "verified-officers"
WORKING_DAY_REMINDERS = "working-day-reminders"
