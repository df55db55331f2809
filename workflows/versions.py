"""Workflow shapes. A run decides its shape once, at its first workflow task, and keeps it.

``SHAPE_2026_12``: lean reports from a matter to its case, the matter's own policy slice, typed state
transitions and register writes batched per workflow task. Runs recorded without its marker keep the
first shape (``workflows/legacy``) to the end.

``SHAPE_2026_12B`` (matters only): the push to the department runs as a local activity, so a matter reaches
its department and its deadline in its first workflow task. Matters recorded with ``SHAPE_2026_12`` alone
keep pushing through the server's activity queue.
"""

from __future__ import annotations

SHAPE_2026_12 = "shape-2026-12"
SHAPE_2026_12B = "shape-2026-12b"
