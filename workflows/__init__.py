"""Deterministic orchestration: CaseWorkflow and its MatterWorkflow children."""
