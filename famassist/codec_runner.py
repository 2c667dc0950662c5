"""A workflow runner that tells the SDK our payload codec needs no per-command context (CASE-6, issue 8).

With a payload codec configured, the SDK (temporalio 1.35) asks the workflow instance for a
serialization context for every payload sequence of every activation and completion, three
times over for an activation, so that a context-aware codec could encrypt an activity's input
differently from a child workflow's. For a sandboxed workflow each question runs a line of code
inside the sandbox, installing and removing its import hooks: in a profile of benchmark (2),
half of the worker's event-loop time in cached cases' workflow tasks.

Our :class:`~famassist.codec.EncryptionCodec` is the same for every payload: it does not take a
context (it is not a ``WithSerializationContext``). For it the answer "no context" selects the
very codec every other answer would, so :class:`ContextFreeCodecRunner` answers that without
entering the sandbox. It wraps another runner (the sandbox, or the unsandboxed one) and
changes nothing else; a context-aware codec, or external payload storage, keeps the SDK's own
answer (:func:`for_converter`). The SDK's debug mode no longer recognises a wrapped sandbox
(it adds pass-throughs for a debugger there); only the simulator runs in debug mode, unsandboxed.
"""

from __future__ import annotations

from collections.abc import Sequence

from temporalio.bridge.proto.workflow_activation import WorkflowActivation
from temporalio.bridge.proto.workflow_completion import WorkflowActivationCompletion
from temporalio.converter import (
    DataConverter,
    SerializationContext,
    StorageDriverStoreContext,
    WithSerializationContext,
)
from temporalio.worker import WorkflowInstance, WorkflowInstanceDetails, WorkflowRunner
from temporalio.worker._command_aware_visitor import CommandInfo
from temporalio.workflow import Info, _Definition


def context_free(converter: DataConverter) -> bool:
    """Whether the SDK's per-command context question can change nothing for ``converter``.

    The SDK asks it only to pick the codec (and external storage's) for a payload of an
    activation or completion; the payload converter is not used there, so its context-awareness
    does not matter.
    """
    codec = converter.payload_codec
    return converter.external_storage is None and not isinstance(codec, WithSerializationContext)


class ContextFreeCodecInstance(WorkflowInstance):
    """A workflow instance that answers "no context" itself and leaves everything else to ``inner``."""

    def __init__(self, inner: WorkflowInstance) -> None:
        self.inner = inner

    def activate(self, act: WorkflowActivation) -> WorkflowActivationCompletion:
        return self.inner.activate(act)

    def get_serialization_context(self, command_info: CommandInfo | None) -> SerializationContext | None:
        return None  # the codec is the same for every payload: no need to ask the sandbox

    def get_external_store_context(self, command_info: CommandInfo | None) -> StorageDriverStoreContext:
        return self.inner.get_external_store_context(command_info)

    def get_info(self) -> Info:
        return self.inner.get_info()

    def get_thread_id(self) -> int | None:
        return self.inner.get_thread_id()


class ContextFreeCodecRunner(WorkflowRunner):
    """``inner``'s instances, answering the codec's context question without entering them."""

    def __init__(self, inner: WorkflowRunner) -> None:
        self.inner = inner

    def prepare_workflow(self, defn: _Definition) -> None:
        self.inner.prepare_workflow(defn)

    def create_instance(self, det: WorkflowInstanceDetails) -> WorkflowInstance:
        return ContextFreeCodecInstance(self.inner.create_instance(det))

    def set_worker_level_failure_exception_types(self, types: Sequence[type[BaseException]]) -> None:
        self.inner.set_worker_level_failure_exception_types(types)


def for_converter(runner: WorkflowRunner, converter: DataConverter) -> WorkflowRunner:
    """``runner`` wrapped when ``converter`` takes no context; ``runner`` itself otherwise."""
    return ContextFreeCodecRunner(runner) if context_free(converter) else runner
