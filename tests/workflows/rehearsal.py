"""Tomorrow's MatterWorkflow, for tests/workflows/test_versioning.py: a change shipped as workflows/versions.py
says. An approval is also reported to the case at once (a signal: a command 1.0 never issues there) and shown
in the timeline. Kept apart from the test so the sandbox loads only this and the workflow code."""

from __future__ import annotations

from temporalio import workflow

from workflows.matter import MatterWorkflow

with workflow.unsafe.imports_passed_through():
    from domain.change import Change
    from domain.models import ApproveInput, MatterInput, MatterResult

REHEARSAL = "rehearsal-approval-reported"
TOLD = "已告知案件审核结果"


@workflow.defn(name="MatterWorkflow")
class RehearsedMatter(MatterWorkflow):
    @workflow.init
    def __init__(self, input: MatterInput) -> None:
        super().__init__(input)
        # Decided at the run's first workflow task: a matter started before the change keeps 1.0's way to its end.
        self._reports_approval = workflow.patched(REHEARSAL)

    @workflow.run
    async def run(self, input: MatterInput) -> MatterResult:
        return await super().run(input)

    async def _approved(self, approval: ApproveInput) -> None:
        await super()._approved(approval)
        if self._reports_approval:
            self._commit(Change(self._m, TOLD))
            await self._report(TOLD)


@workflow.defn(name="MatterWorkflow")
class UnguardedMatter(RehearsedMatter):
    """The same change shipped without the patch: every run takes it, those already under way too."""

    @workflow.init
    def __init__(self, input: MatterInput) -> None:
        super().__init__(input)
        self._reports_approval = True

    @workflow.run
    async def run(self, input: MatterInput) -> MatterResult:
        return await super().run(input)
