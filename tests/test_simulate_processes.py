"""``famassist simulate`` with its worker in a process of its own: the worker's clock follows the
time-skipping server's, and the round comes out the same as with the worker in-process."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from pathlib import Path

from temporalio.testing import WorkflowEnvironment

from famassist.simulation import Options, simulate
from famassist.simulation.environment import simulation_settings
from famassist.simulation.worker_process import WorkerProcess
from persistence.migrate import upgrade


async def test_the_worker_process_clock_follows_the_time_skipping_server(
        time_skipping_env: WorkflowEnvironment, tmp_path: Path) -> None:
    env = time_skipping_env
    url = f"sqlite:///{tmp_path / 'famassist.db'}"
    upgrade(url)
    settings = simulation_settings(url, tmp_path, {})
    async with WorkerProcess(env.client.service_client.config.target_host, env.client.namespace, settings,
                             await env.get_current_time()) as worker:
        for _ in range(2):
            await env.sleep(timedelta(days=7))
            server = await env.get_current_time()
            seen = await worker.move_to(server)  # the worker process's datetime.now(UTC), read after the move
            assert server <= seen < server + timedelta(seconds=30)
        assert seen > datetime.now(UTC) + timedelta(days=13)  # two skipped weeks ahead of the real clock
    assert worker.cpu_seconds is not None and worker.cpu_seconds > 0  # it stopped when asked, and said so


async def test_a_seed_gives_the_same_round_whichever_process_runs_the_worker(tmp_path: Path) -> None:
    """CAP-6 decides each referral in the assistant's workflow, wherever it runs: the same figures."""
    options = Options(municipalities=2, assistants=3, cases=8, years=1, seed=11)
    (tmp_path / "apart").mkdir()
    (tmp_path / "together").mkdir()
    apart = await simulate(options, workdir=tmp_path / "apart")
    together = await simulate(dataclasses.replace(options, worker_processes=0), workdir=tmp_path / "together")
    assert len(apart.worker_cpu_seconds) == 1 and together.worker_cpu_seconds == []
    for figures in (apart, together):  # the timings differ; everything the round did must not
        figures.wall_seconds, figures.worker_cpu_seconds, figures.turn_seconds = 0.0, [], {}
    assert apart.unexpected == [] and apart.cases_served > 0 and apart.total_paid > 0
    assert apart == together
