"""CASE-6 at the worker's cost: our codec takes no context, so the SDK need not enter the sandbox to ask.

With a payload codec, temporalio asks the workflow instance for a serialization context for
every payload sequence of every activation and completion; for a sandboxed workflow each answer
runs code inside the sandbox (the largest single cost of a cached workflow's task in a profile of
benchmark (2)). famassist/codec_runner.py answers "none" for a codec that takes no context;
these tests run a case's first steps through the worker the product builds and count the
sandbox's answers, with our codec and with a context-aware one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest
from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.converter import SerializationContext, WithSerializationContext
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner
from temporalio.worker.workflow_sandbox import _runner

from domain.calendar import local_date
from domain.case_commands import Assess, Decide
from domain.case_model import Decision
from famassist.codec import ENCODING, EncryptionCodec, data_converter, parse_keys
from famassist.codec_runner import ContextFreeCodecRunner, context_free, for_converter
from famassist.settings import Settings
from persistence.db import make_engine, session_factory
from persistence.models import CaseRecord
from tests.factories import SOCIAL_WORKER, family_assessment
from tests.payload_keys import CONVERTER, TEST_PAYLOAD_KEYS
from worker import SANDBOX, build_workers
from workflows.client_case import CaseInput, ClientCaseWorkflow, case_workflow_id


class ContextAwareCodec(EncryptionCodec, WithSerializationContext):
    """Our codec, declaring that it would encrypt differently per workflow or activity."""

    def __init__(self, *args: Any, contexts: list[SerializationContext], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.contexts = contexts

    def with_context(self, context: SerializationContext) -> ContextAwareCodec:
        self.contexts.append(context)
        return self


@pytest.fixture
def sandbox_answers(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every time the SDK runs the sandbox's context question."""
    answers: list[object] = []
    ask = _runner._Instance.get_serialization_context

    def counted(self: _runner._Instance, command_info: Any) -> SerializationContext | None:
        answer = ask(self, command_info)
        answers.append(answer)
        return answer

    monkeypatch.setattr(_runner._Instance, "get_serialization_context", counted)
    yield answers


async def first_steps(client: Client, sqlite_url: str) -> Sequence[Payload]:
    """Open, assess and decide a case on the product's workers; the payloads of its history."""
    settings = Settings(database_url=sqlite_url, task_queue=f"codec-{uuid.uuid4().hex[:8]}", worker_shutdown_seconds=1)
    sessions = session_factory(make_engine(sqlite_url))
    case_id, now = str(uuid.uuid4()), datetime.now(UTC)
    with sessions() as session, session.begin():
        session.add(CaseRecord(case_id=case_id, municipality="CESIS", status="registered",
                               case_manager_id=SOCIAL_WORKER.user_id, applied_on=local_date(now),
                               created_at=now, updated_at=now))
    async with build_workers(client, settings):
        handle = await client.start_workflow(
            ClientCaseWorkflow.run,
            CaseInput(case_id=case_id, municipality="CESIS", case_manager_id=SOCIAL_WORKER.user_id,
                      applied_on=local_date(now), registered_by=SOCIAL_WORKER),
            id=case_workflow_id(case_id), task_queue=settings.task_queue)
        await handle.execute_update(ClientCaseWorkflow.assess,
                                    Assess(actor=SOCIAL_WORKER, assessment=family_assessment()))
        state = await handle.execute_update(ClientCaseWorkflow.decide,
                                            Decide(actor=SOCIAL_WORKER, decision=Decision.GRANTED, reasons="Assessed"))
        assert state.decision == Decision.GRANTED
        history = await handle.fetch_history()
        await handle.terminate("the test is over")
    started = history.events[0].workflow_execution_started_event_attributes
    return list(started.input.payloads)


async def test_case6_the_worker_never_enters_the_sandbox_to_ask_our_codec_its_context(
        time_skipping_env: WorkflowEnvironment, sqlite_url: str, sandbox_answers: list[object]) -> None:
    payloads = await first_steps(time_skipping_env.client, sqlite_url)
    assert sandbox_answers == []
    assert payloads and all(payload.metadata["encoding"] == ENCODING for payload in payloads)  # still encrypted


async def test_case6_a_codec_that_takes_a_context_still_gets_the_sdks_answers_from_the_sandbox(
        time_skipping_env: WorkflowEnvironment, sqlite_url: str, sandbox_answers: list[object]) -> None:
    contexts: list[SerializationContext] = []
    aware = data_converter(ContextAwareCodec(parse_keys(TEST_PAYLOAD_KEYS), contexts=contexts))
    config = time_skipping_env.client.config()
    config["data_converter"] = aware
    client = Client(**config)
    payloads = await first_steps(client, sqlite_url)
    assert sandbox_answers  # the SDK asked the sandbox, as it does without our runner
    assert contexts  # and the codec was given them
    assert all(payload.metadata["encoding"] == ENCODING for payload in payloads)


def test_only_a_context_free_codec_without_external_storage_is_answered_without_asking() -> None:
    assert context_free(CONVERTER)
    assert isinstance(for_converter(SANDBOX, CONVERTER), ContextFreeCodecRunner)
    unsandboxed = UnsandboxedWorkflowRunner()
    assert isinstance(for_converter(unsandboxed, CONVERTER), ContextFreeCodecRunner)
    aware = data_converter(ContextAwareCodec(parse_keys(TEST_PAYLOAD_KEYS), contexts=[]))
    assert not context_free(aware)
    assert for_converter(SANDBOX, aware) is SANDBOX
