"""How a case and its matters talk: the names both sides use, so that neither module imports the other.

The case starts each matter by its workflow type with a ``MatterInput`` and waits for a ``MatterResult``; it
forwards the family's commands to the matter by signal; the matter reports to its case with a ``MatterReport``
on ``MATTER_UPDATED``. The payloads are the models of
domain/models.py. These names are in every recorded history: renaming one breaks running cases.
"""

from __future__ import annotations

from typing import Final

MATTER_WORKFLOW: Final = "MatterWorkflow"

# The matter's report to its case.
MATTER_UPDATED: Final = "matter_updated"

# What the case forwards to a matter.
MATERIALS_SUPPLEMENTED: Final = "materials_supplemented"
WITHDRAW: Final = "withdraw"
PAYEE_CORRECTED: Final = "payee_corrected"
# The window recorded the relationship proof an applicant's money waits for.
PAYEE_PROVEN: Final = "payee_proven"
# The case continued as new: a matter that has ended reports it again, to the new run.
CASE_CONTINUED: Final = "case_continued"
