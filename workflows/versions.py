"""Workflow shapes. A run decides its shape once, at its first workflow task, and keeps it.

``SHAPE_2026_12``: lean reports from a matter to its case, the matter's own policy slice, typed state
transitions and register writes batched per workflow task. Runs recorded without its marker keep the
first shape (``workflows/legacy``) to the end.
"""

from __future__ import annotations

SHAPE_2026_12 = "shape-2026-12"
