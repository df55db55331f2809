"""Property tests: no signal payload, however hostile, breaks a running case or matter.

Each property test drives one real case into the parallel phase, then lets Hypothesis generate signal
payloads (JSON-like values with random keys, wrong types, strings up to 100k characters, RTL marks,
emoji and NUL, numbers such as 1e309, "-0", "1,234.50" and "１２３", absurd amounts, no argument or
several, bytes that are not JSON, odd encodings) and sends each one to the running workflow, unencrypted as a
foreign tool would or through the codec. A payload that would be *accepted* (and really approve,
reject or withdraw) is filtered out with the workflow's own parser and checks, so every example sent
must become exactly one refused action.

Hypothesis runs in a worker thread (``@given`` on a sync inner function) and hands each example to the
test's event loop; the shared workflow is stateful, so shrinking is switched off and the first failing
payload is reported as generated.
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel
from sqlalchemy.engine import Engine
from temporalio.api.common.v1 import Payload
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.common import RawValue
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.service import RPCError, RPCStatusCode
from temporalio.worker import Worker

from client.errors import OperationRefused
from client.operations import decide
from domain.catalogue import DEFAULT_MATTERS
from domain.decisions import check_approval
from domain.enums import CaseState, DecisionKind, MatterCode, MatterState, PensionStatus
from domain.input_errors import MAX_REASON_CHARS
from domain.models import (
    ApproveInput,
    CremationCertifiedInput,
    DecisionCommand,
    ExtendDeadlineInput,
    MaterialsSupplementedInput,
    PayeeCorrectedInput,
    RefusedAction,
    RejectInput,
    RequestMaterialsInput,
    WithdrawInput,
)
from runtime.keys import Keys
from tests.factories import make_card_number
from tests.workflows.helpers import (
    application_for,
    approve,
    confirm_payment,
    json_payload,
    ledger_amounts,
    matter_handle,
    payment_rows,
    signal_raw,
    start,
    status,
    to_parallel_phase,
    view_of,
    wait_for,
)
from workflows.raw_input import NO_INPUT, parse_raw

MEDICAL = MatterCode.EMPLOYEE_MEDICAL_ACCOUNT_SETTLEMENT
DEFINITION = {d.code: d for d in DEFAULT_MATTERS}[MEDICAL]
CJK = re.compile(r"[\u4e00-\u9fff]")
CONVERTER = pydantic_data_converter.payload_converter

MATTER_EXAMPLES = 150
CASE_EXAMPLES = 120
FUZZ = settings(
    max_examples=MATTER_EXAMPLES,
    deadline=None,
    # No shrinking: the workflow under test keeps its state, so replaying smaller payloads proves nothing.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much,
        HealthCheck.data_too_large, HealthCheck.large_base_example,
    ],
)

# What each signal takes; the refusal filter below uses the same models as the workflows.
MATTER_SIGNALS: dict[str, type[Any]] = {
    "approve": ApproveInput,
    "reject": RejectInput,
    "request_materials": RequestMaterialsInput,
    "extend_deadline": ExtendDeadlineInput,
    "materials_supplemented": MaterialsSupplementedInput,
    "payee_corrected": PayeeCorrectedInput,
}
CASE_SIGNALS: dict[str, type[Any]] = {
    "cremation_certified": CremationCertifiedInput,
    "withdraw": WithdrawInput,
    "materials_supplemented": MaterialsSupplementedInput,
}
VALID: dict[str, dict[str, Any]] = {
    "approve": {"officer": "李科员", "note": "", "amount": "1000.00"},
    "reject": {"officer": "李科员", "reason": "材料不全"},
    "request_materials": {"officer": "李科员", "items": ["户口本首页"], "note": "请补交"},
    "extend_deadline": {"supervisor": "赵督办", "working_days": 3, "reason": "系统故障"},
    "materials_supplemented": {"matter": MEDICAL.value, "items": ["户口本首页"], "note": ""},
    "payee_corrected": {"clerk": "张窗口", "bank_name": "中国建设银行固阳支行", "account_name": "王丽华",
                        "card_number": make_card_number("621700", 19, 5)},
    "cremation_certified": {"certificate_no": "HH-2026-0002", "funeral_home": "固阳县殡仪馆",
                            "cremated_on": "2026-11-20"},
    "withdraw": {"clerk": "张窗口", "reason": "家属要求撤回"},
}


# --- hostile JSON -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawNumber:
    """A number token written into the JSON text as is (Python has no value for 1e309 or -0)."""

    text: str


ODD_TEXT = [
    "", " ", "\t\n", "\x00", "李\x00科员", "\u202e员科李", "\u200b", "\ufeff", "🙂", "👨‍👩‍👧", "𠀀𪚥",
    "١٢٣", "１２３", "1,234.50", "-0", "NaN", "Infinity", "1e309", "0x10", "½", "null", "true", "{}", "[]",
    "'; DROP TABLE payments; --", "<script>alert(1)</script>", "%s%n{officer}", "\\u0000", "../../etc/passwd",
    "police.hukou_cancellation", "nhsa.employee_medical_account_settlement ", "2026-02-30", "2026-11-20T25:00",
]
ABSURD_AMOUNTS: list[Any] = [
    "-0", "0", "0.00", "-1", "-0.01", "0.001", "12.345", "1,234.50", "１２３", "1e20", "1E2", "1000000.01",
    "100000000000000000000", "99999999999999.99", "NaN", "Infinity", "-Infinity", "", " ", "¥100", "100元",
    "壹佰元", "0x10", "1_000", "١٠٠", "+5", " 7 ", RawNumber("1e309"), RawNumber("-1e309"), RawNumber("-0"),
    RawNumber("1E400"), RawNumber("1e-400"), RawNumber("123456789012345678901234567890"), -5, 0, 10**20,
    1e20, -0.0, 0.005, float("inf"), float("nan"), True, False, None, [], {}, ["100"], {"value": "100"},
]
_MODELS: list[type[BaseModel]] = [*MATTER_SIGNALS.values(), *CASE_SIGNALS.values(), DecisionCommand]
FIELDS = sorted({name for model in _MODELS for name in model.model_fields})


def huge_text() -> st.SearchStrategy[str]:
    """Up to 100k characters, built by repetition (Hypothesis draws at most a few KB itself)."""
    return st.builds(
        lambda unit, size: (unit * (size // len(unit) + 1))[:size],
        st.sampled_from(["a", "李", "🙂", "\u202e", "x\x00", "员 ", "٣"]),
        st.integers(min_value=1_000, max_value=100_000),
    )


texts = st.one_of(st.text(max_size=40), st.sampled_from(ODD_TEXT), huge_text())
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(),
    st.sampled_from([RawNumber(t) for t in ("1e309", "-0", "-0.0", "1E400", "4.9e-325", "1" * 400)]),
)
keys = st.one_of(st.sampled_from(FIELDS), st.sampled_from([f.upper() for f in FIELDS]),
                 st.sampled_from([f + " " for f in FIELDS]), st.text(max_size=12), st.sampled_from(ODD_TEXT))
leaves = st.one_of(st.none(), st.booleans(), numbers, texts, st.sampled_from(ABSURD_AMOUNTS))
json_values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=8,
)


def near_valid(signal: str) -> st.SearchStrategy[Any]:
    """The valid payload of ``signal`` with one thing wrong: a field replaced, dropped or added."""
    base = VALID[signal]
    names = sorted(base)
    replaced = st.builds(lambda name, value: {**base, name: value}, st.sampled_from(names), json_values)
    dropped = st.builds(lambda name: {k: v for k, v in base.items() if k != name}, st.sampled_from(names))
    added = st.builds(lambda key, value: {**base, key: value}, keys, json_values)
    options = [replaced, dropped, added]
    if signal == "approve":
        options.append(st.builds(lambda amount: {**base, "amount": amount}, st.sampled_from(ABSURD_AMOUNTS)))
        options.append(st.builds(lambda amount: {"officer": "李科员", "amount": amount}, numbers))
    return st.one_of(*options)


def dumps(value: Any) -> str:
    """JSON text, keeping RawNumber tokens and writing inf/nan as Python's json module does."""
    if isinstance(value, RawNumber):
        return value.text
    if isinstance(value, dict):
        return "{" + ",".join(f"{json.dumps(str(k), ensure_ascii=False)}:{dumps(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ",".join(dumps(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return json.dumps(value)
    return json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class Envelope:
    """What goes over the wire: no argument, or one payload; sent raw or through the codec."""

    payloads: tuple[Payload, ...]
    encrypted: bool
    shown: str

    async def send(self, client: Client, handle: WorkflowHandle[Any, Any], signal: str) -> None:
        if self.encrypted:
            # The codec client encrypts each raw payload.
            await handle.signal(signal, args=[RawValue(p) for p in self.payloads])
        else:
            await signal_raw(client, handle.id, signal, self.payloads)

    def raw_value(self) -> RawValue:
        return RawValue(self.payloads[0]) if self.payloads else NO_INPUT

    def __repr__(self) -> str:
        return f"Envelope({self.shown[:300]!r}, encrypted={self.encrypted})"


def envelopes(signal: str) -> st.SearchStrategy[Envelope]:
    def json_envelope(value: Any, encrypted: bool) -> Envelope:
        text = dumps(value)
        return Envelope((json_payload(text.encode("utf-8", "surrogatepass")),), encrypted, text)

    value = st.one_of(near_valid(signal), near_valid(signal), json_values, st.dictionaries(keys, json_values))
    def several(values: list[Any], encrypted: bool) -> Envelope:
        texts = [dumps(v) for v in values]
        return Envelope(tuple(json_payload(t.encode()) for t in texts), encrypted, " | ".join(texts))

    return st.one_of(
        st.builds(json_envelope, value, st.booleans()),
        st.just(Envelope((), False, "<no argument>")),
        # The Temporal CLI can send several inputs to one signal.
        st.builds(several, st.lists(st.one_of(near_valid(signal), json_values), min_size=2, max_size=3),
                  st.booleans()),
        # Bytes that are not JSON, and the encodings a foreign tool might put on them.
        st.builds(
            lambda data, encoding, encrypted: Envelope(
                (Payload(metadata={"encoding": encoding}, data=data),), encrypted, f"{encoding!r}:{data!r}"),
            st.one_of(st.binary(max_size=64), st.sampled_from([b"{", b'{"officer": "a"', b'"\\ud800"',
                                                              b'{"officer": "a\x00"}', b"\xff\xfe{}"])),
            st.sampled_from([b"json/plain", b"binary/plain", b"binary/null", b"json/protobuf", b"text/x-yaml"]),
            st.booleans(),
        ),
    )


def decodes(payload: Payload) -> bool:
    try:
        CONVERTER.from_payload(payload)
        return True
    except Exception:
        return False


def refused_locally(signal: str, model: type[Any], envelope: Envelope) -> bool:
    """Whether the workflow must refuse this payload, decided by the workflows' own parser and checks.

    The matter is under review and the case is in its parallel phase with the certificate in, so every
    parsed cremation certificate, supplement and payee correction is refused for its state; a parsed
    approval is refused only by the amount rules; anything else that parses would really be applied.
    Several inputs are refused whatever they hold, when the SDK can decode them.
    """
    if len(envelope.payloads) > 1:
        # Refused as "only one input", as long as the SDK can decode each one (else it drops the signal).
        return all(decodes(p) for p in envelope.payloads)
    parsed = parse_raw(model, envelope.raw_value(), CONVERTER)
    if isinstance(parsed, str):
        return True
    if signal in ("cremation_certified", "materials_supplemented", "payee_corrected"):
        return True
    if signal == "approve":
        return check_approval(DEFINITION, parsed) is not None
    return False


# --- sending and checking -------------------------------------------------------------------------


async def refusals(handle: WorkflowHandle[Any, Any], *, matter: MatterCode | None) -> tuple[RefusedAction, ...]:
    snap = await status(handle)
    return view_of(snap, matter).refused_actions if matter else snap.refused_actions


async def refusal_count(
    handle: WorkflowHandle[Any, Any], *, matter: MatterCode | None
) -> tuple[int, RefusedAction | None]:
    """How many refusals there were, and the latest (a matter keeps only its last few in full)."""
    snap = await status(handle)
    if matter:
        view = view_of(snap, matter)
        return view.refused_total, (view.refused_actions[-1] if view.refused_actions else None)
    # The case refuses what it can judge; a supplement it forwards is refused by the matter.
    total = snap.refused_total + sum(view.refused_total for view in snap.matters)
    return total, (snap.refused_actions[-1] if snap.refused_actions else None)


async def wait_refusals(
    handle: WorkflowHandle[Any, Any], count: int, *, matter: MatterCode | None, timeout: float = 10
) -> tuple[int, RefusedAction | None]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await refusal_count(handle, matter=matter)
        if found[0] >= count or loop.time() > deadline:
            return found
        await asyncio.sleep(0.01)


def check_reason(refused: RefusedAction, signal: str) -> None:
    assert refused.action == signal
    assert CJK.search(refused.reason), refused.reason
    assert 0 < len(refused.reason) <= MAX_REASON_CHARS, len(refused.reason)


async def failed_tasks(handle: WorkflowHandle[Any, Any]) -> list[str]:
    failures = []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
            failures.append(event.workflow_task_failed_event_attributes.failure.message)
    return failures


class Fuzzer:
    """Runs Hypothesis in a thread and every example on the test's event loop, against one workflow."""

    def __init__(self, client: Client, target: WorkflowHandle[Any, Any], matter: MatterCode | None,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.client = client
        self.target = target
        self.matter = matter
        self.loop = loop
        self.sent = 0
        self.refused_by_server = 0
        self.by_signal: dict[str, int] = {}

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=60)

    async def example(self, signal: str, envelope: Envelope, status_handle: WorkflowHandle[Any, Any]) -> None:
        try:
            await envelope.send(self.client, self.target, signal)
        except RPCError as err:
            # Larger than any real signal: the server refuses it before the workflow sees it (PAYLOAD_LIMITS).
            if err.status == RPCStatusCode.INVALID_ARGUMENT and "size exceeds" in err.message:
                self.refused_by_server += 1
                return
            raise
        self.sent += 1
        self.by_signal[signal] = self.by_signal.get(signal, 0) + 1
        total, latest = await wait_refusals(status_handle, self.sent, matter=self.matter)
        if total < self.sent:
            failures = await failed_tasks(self.target)
            raise AssertionError(f"no refusal recorded for {signal} {envelope!r}; workflow task failures: "
                                 f"{failures[:3]}")
        assert total == self.sent, f"{total} refusals for {self.sent} signals"
        assert latest is not None
        check_reason(latest, signal)


async def test_hostile_decisions_to_a_matter_are_refused_and_the_matter_still_works(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_for(PensionStatus.ENTERPRISE_RETIREE))
    await to_parallel_phase(client, handle)
    matter = matter_handle(client, handle.id, MEDICAL)
    fuzz = Fuzzer(client, matter, MEDICAL, asyncio.get_running_loop())

    @FUZZ
    @given(signal=st.sampled_from(sorted(MATTER_SIGNALS)), data=st.data())
    def property_(signal: str, data: st.DataObject) -> None:
        envelope = data.draw(envelopes(signal), label="envelope")
        assume(refused_locally(signal, MATTER_SIGNALS[signal], envelope))
        fuzz.run(fuzz.example(signal, envelope, matter))

    await asyncio.to_thread(property_)

    assert fuzz.sent >= MATTER_EXAMPLES // 2, fuzz.by_signal
    assert set(fuzz.by_signal) == set(MATTER_SIGNALS), fuzz.by_signal
    assert (await matter.describe()).status == WorkflowExecutionStatus.RUNNING
    assert await failed_tasks(matter) == []
    assert await failed_tasks(handle) == []
    assert (await refusal_count(matter, matter=MEDICAL))[0] == fuzz.sent
    # The case sees the same refusals, and the matter still takes a real decision afterwards.
    await wait_for(handle, lambda s: view_of(s, MEDICAL).refused_total == fuzz.sent)
    assert len(view_of(await status(handle), MEDICAL).refused_actions) == min(fuzz.sent, 20)
    await matter.signal("approve", {"officer": "李科员", "amount": "1234.50"})
    await confirm_payment(client, handle.id, MEDICAL)
    snap = await wait_for(handle, lambda s: view_of(s, MEDICAL).state == MatterState.PAID)
    assert view_of(snap, MEDICAL).amount == Decimal("1234.50")
    assert ledger_amounts(engine, handle.id) == {MEDICAL.value: Decimal("1234.50")}
    history = await matter.fetch_history()
    size = sum(e.ByteSize() for e in history.events)
    print(f"matter fuzz: {fuzz.sent} payloads sent {fuzz.by_signal}; history {len(history.events)} events {size} B")


async def test_hostile_case_signals_are_refused_and_the_case_still_completes(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_for(PensionStatus.NONE))
    snap = await to_parallel_phase(client, handle)
    fuzz = Fuzzer(client, handle, None, asyncio.get_running_loop())

    @settings(FUZZ, max_examples=CASE_EXAMPLES)
    @given(signal=st.sampled_from(sorted(CASE_SIGNALS)), data=st.data())
    def property_(signal: str, data: st.DataObject) -> None:
        envelope = data.draw(envelopes(signal), label="envelope")
        assume(refused_locally(signal, CASE_SIGNALS[signal], envelope))
        fuzz.run(fuzz.example(signal, envelope, handle))

    await asyncio.to_thread(property_)

    assert fuzz.sent >= CASE_EXAMPLES // 2, fuzz.by_signal
    assert set(fuzz.by_signal) == set(CASE_SIGNALS), fuzz.by_signal
    assert (await handle.describe()).status == WorkflowExecutionStatus.RUNNING
    assert await failed_tasks(handle) == []
    snap = await status(handle)
    assert snap.case_state == CaseState.IN_PROGRESS
    # Every one is counted; the status keeps the latest few of each workflow in full.
    assert snap.refused_total + sum(view.refused_total for view in snap.matters) == fuzz.sent
    assert 0 < len([r for r in snap.refused_actions if r.matter is None]) <= 20
    for view in snap.matters:
        if not view.final:
            await approve(client, handle.id, view)
    result = await asyncio.wait_for(handle.result(), timeout=30)
    assert result.state == CaseState.COMPLETED
    print(f"case fuzz: {fuzz.sent} payloads sent {fuzz.by_signal}")


# --- the CLI's update path ------------------------------------------------------------------------


ABSURD_CLI_AMOUNTS = [
    "-1", "-0.01", "-0", "1000000.01", "9999999.99", "99999999999999.99", "1e20", "100000000000000000000",
    "12.345", "0.001", "NaN", "Infinity",
]


@pytest.mark.filterwarnings("ignore::UserWarning")  # serialising a model_construct'ed amount string
async def test_absurd_amounts_are_refused_through_the_cli_update(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    handle = await start(client, keys, task_queue, application_for(PensionStatus.ENTERPRISE_RETIREE))
    await to_parallel_phase(client, handle)
    assert DEFINITION.max_amount == Decimal("1000000.00")
    messages = {}
    for amount in ABSURD_CLI_AMOUNTS:
        # Built without validation, as a hand-made client could: the workflow must not trust the caller.
        approval = ApproveInput.model_construct(officer="李科员", note="", amount=cast(Any, amount),
                                                certificate_no=None)
        command = DecisionCommand.model_construct(
            kind=DecisionKind.APPROVE, approve=approval, reject=None, request_materials=None, extend_deadline=None)
        with pytest.raises(OperationRefused) as refused:
            await decide(client, handle.id, MEDICAL, command)
        message = refused.value.message
        messages[amount] = message
        assert message.startswith("决定未受理") and "\n" not in message, message
        assert "input_value" not in message and "validation error" not in message, message
    assert "金额不能为负数" in messages["-1"] and "金额不能为负数" in messages["-0"]
    assert "上限" in messages["1000000.01"] and "上限" in messages["9999999.99"]
    # A refused update leaves no trace in the workflow: still under review, nothing paid, nothing recorded.
    snap = await status(handle)
    assert view_of(snap, MEDICAL).state == MatterState.UNDER_REVIEW
    assert view_of(snap, MEDICAL).refused_actions == ()
    assert payment_rows(engine, handle.id) == []
    assert await failed_tasks(matter_handle(client, handle.id, MEDICAL)) == []
    # And a sane amount through the same path is taken.
    ack = await decide(client, handle.id, MEDICAL, DecisionCommand(
        kind=DecisionKind.APPROVE, approve=ApproveInput(officer="李科员", amount=Decimal("1000000.00"))))
    assert ack.accepted


# --- hostile payloads that once wedged or leaked ---------------------------------------------------


async def refused_or_wedged(
    matter: WorkflowHandle[Any, Any], code: MatterCode, timeout: float = 10
) -> tuple[tuple[RefusedAction, ...], list[str]]:
    """The matter's refusals once one appears, or the workflow task failures that stop it answering."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        failures = await failed_tasks(matter)
        if failures:
            return (), failures
        try:
            found = await asyncio.wait_for(refusals(matter, matter=code), timeout=2)
        except Exception:
            found = ()
        if found or loop.time() > deadline:
            return found, failures
        await asyncio.sleep(0.05)


async def parallel_matter(client: Client, keys: Keys, task_queue: str, code: MatterCode) -> WorkflowHandle[Any, Any]:
    handle = await start(client, keys, task_queue, application_for(PensionStatus.ENTERPRISE_RETIREE))
    await to_parallel_phase(client, handle)
    return matter_handle(client, handle.id, code)


async def test_a_signal_with_two_arguments_is_refused(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    code = MatterCode.SOCIAL_ASSISTANCE_TERMINATION
    matter = await parallel_matter(client, keys, task_queue, code)
    first = json_payload('{"officer": "李科员"}'.encode())
    await signal_raw(client, matter.id, "approve", [first, json_payload(b"{}")])
    found, failures = await refused_or_wedged(matter, code)
    assert failures == []
    assert [r.action for r in found] == ["approve"]
    assert CJK.search(found[0].reason)


async def test_two_arguments_one_not_json_leave_the_matter_healthy(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    """The SDK decodes surplus arguments itself and drops the whole signal when one is not JSON (it logs
    "Failed deserializing signal input ... dropping the signal"); no refusal, but nothing breaks."""
    code = MatterCode.DISABILITY_SUBSIDY_TERMINATION
    matter = await parallel_matter(client, keys, task_queue, code)
    first = json_payload('{"officer": "李科员"}'.encode())
    await signal_raw(client, matter.id, "approve", [first, json_payload(b"{not json")])
    await matter.signal("approve", {"officer": 7})  # a marker refusal after it
    found, failures = await refused_or_wedged(matter, code)
    assert failures == []
    assert found[-1].reason == "经办人应为文字"
    await matter.signal("approve", {"officer": "李科员"})
    handle = client.get_workflow_handle(matter.id.partition(".")[0])
    await wait_for(handle, lambda s: view_of(s, code).state == MatterState.APPROVED)


async def test_a_signal_payload_that_does_not_decrypt_is_refused(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    code = MatterCode.DISABILITY_SUBSIDY_TERMINATION
    matter = await parallel_matter(client, keys, task_queue, code)
    foreign = Payload(metadata={"encoding": b"binary/encrypted", "encryption-key-id": b"retired"}, data=b"x" * 40)
    await signal_raw(client, matter.id, "approve", [foreign])
    found, failures = await refused_or_wedged(matter, code)
    assert failures == []
    assert [r.action for r in found] == ["approve"]


async def test_refusal_reasons_do_not_echo_what_was_typed(
    client: Client, keys: Keys, task_queue: str, worker: Worker
) -> None:
    code = MatterCode.PROVIDENT_FUND_DEATH_WITHDRAWAL
    matter = await parallel_matter(client, keys, task_queue, code)
    typed = "\u202e13904721234\x00"
    await matter.signal("approve", {"officer": "李科员", "amount": "100.00", typed: 1})
    found, failures = await refused_or_wedged(matter, code)
    assert failures == [] and len(found) == 1
    reason = found[0].reason
    assert CJK.search(reason)
    assert "13904721234" not in reason
    assert not any(ch in reason for ch in "\x00\u202e")


async def test_an_officer_name_with_control_characters_is_refused(
    client: Client, keys: Keys, task_queue: str, engine: Engine, worker: Worker
) -> None:
    code = MatterCode.PREFERENTIAL_BENEFIT_TERMINATION
    matter = await parallel_matter(client, keys, task_queue, code)
    for officer in ("\x00", "\u202e员科李"):
        await matter.signal("approve", {"officer": officer, "amount": "100.00"})
    found, failures = await refused_or_wedged(matter, code, timeout=5)
    await asyncio.sleep(0.5)
    found = await refusals(matter, matter=code)
    assert failures == []
    assert [r.action for r in found] == ["approve", "approve"]
    assert payment_rows(engine, matter.id.partition(".")[0]) == []
