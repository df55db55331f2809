"""The worker's sandbox: what it does once per worker instead of once per workflow changes no answer."""

from __future__ import annotations

import dataclasses
from typing import Any

from temporalio import workflow
from temporalio.api.enums.v1 import CommandType
from temporalio.common import RawValue
from temporalio.worker import WorkflowInstanceDetails
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox._runner import _fake_info

import worker
from workflows.case import CaseWorkflow
from workflows.matter import MatterWorkflow


def _details(cls: type) -> WorkflowInstanceDetails:
    import temporalio.converter
    from temporalio.api.common.v1 import Payloads
    from temporalio.api.failure.v1 import Failure

    return WorkflowInstanceDetails(
        payload_converter_factory=temporalio.converter.DataConverter.default._new_payload_converter,
        failure_converter_class=temporalio.converter.DataConverter.default.failure_converter_class,
        interceptor_classes=[], defn=workflow._Definition.must_from_class(cls),
        info=dataclasses.replace(_fake_info, workflow_id="SH-TEST.matter", namespace="default"),
        randomness_seed=1, extern_functions={}, disable_eager_activity_execution=False,
        worker_level_failure_exception_types=[], patch_activation_callback=None,
        last_completion_result=Payloads(), last_failure=Failure(),
    )


async def test_the_serialization_context_is_the_one_the_stock_sandbox_gives() -> None:
    ours = worker.sandbox_runner()
    stock = SandboxedWorkflowRunner(restrictions=ours.restrictions)
    for cls in (MatterWorkflow, CaseWorkflow):
        mine, theirs = ours.create_instance(_details(cls)), stock.create_instance(_details(cls))
        assert type(mine) is not type(theirs)
        for command in (None, CommandInfo(CommandType.COMMAND_TYPE_SCHEDULE_ACTIVITY_TASK, 1),
                        CommandInfo(CommandType.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION, 1),
                        CommandInfo(CommandType.COMMAND_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION, 1)):
            assert mine.get_serialization_context(command) == theirs.get_serialization_context(command)
            assert mine.get_external_store_context(command) == theirs.get_external_store_context(command)


async def test_each_workflow_still_gets_its_own_module_while_the_code_is_compiled_once() -> None:
    worker.precompile_workflows()
    runner = worker.sandbox_runner()
    first: Any = runner.create_instance(_details(MatterWorkflow))
    second: Any = runner.create_instance(_details(MatterWorkflow))
    one, other = (instance.globals_and_locals["__temporal_workflow_class"] for instance in (first, second))
    assert one is not other and one is not MatterWorkflow  # re-imported in each sandbox, as before
    assert one.run.__code__ is other.run.__code__  # from the code compiled once
    assert any(path.endswith("workflows/matter.py") for path in worker._WORKFLOW_CODE)


def test_a_raw_handler_shows_the_sdk_one_evaluated_input() -> None:
    assert MatterWorkflow.approve.__annotations__ == {"payload": RawValue, "extra": Any, "return": type(None)}
    assert CaseWorkflow.matter_updated.__annotations__["payload"] is RawValue
