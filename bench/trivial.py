"""The trivial workflow that raw Temporal starts are measured with (``bench.api_load`` (1))."""

from __future__ import annotations

from temporalio import workflow


@workflow.defn(name="BenchTrivial")
class TrivialWorkflow:
    @workflow.run
    async def run(self) -> None:
        return None
