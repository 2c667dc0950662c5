"""Saved histories of the case workflow replay on today's code (determinism)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from tests.payload_keys import CONVERTER
from tests.workflows.record_histories import (
    drive_control_group_case,
    drive_one_case,
    drive_one_pilot,
    drive_one_report,
)
from workflows.assistant_pilot import AssistantPilotWorkflow
from workflows.client_case import ClientCaseWorkflow
from workflows.quarterly_report import QuarterlyReportWorkflow

HISTORIES = sorted((Path(__file__).parent.parent / "histories").glob("*.json"))


def replayer() -> Replayer:
    return Replayer(workflows=[ClientCaseWorkflow, AssistantPilotWorkflow, QuarterlyReportWorkflow],
                    data_converter=CONVERTER)  # CASE-6: histories recorded before it replay too


def test_there_are_saved_histories_of_both_workflows_and_of_a_continued_run() -> None:
    assert any(p.name.startswith("assistant_pilot_") for p in HISTORIES)
    assert any(p.name.startswith("quarterly_report_") for p in HISTORIES)
    texts = [path.read_text() for path in HISTORIES if path.name.startswith("client_case_")]
    assert any("CONTINUED_AS_NEW" in text for text in texts)
    assert any("continuedExecutionRunId" in text for text in texts)


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_a_saved_case_history_replays_without_nondeterminism(path: Path) -> None:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer().replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None


async def test_a_history_recorded_now_replays(time_skipping_env, sqlite_url) -> None:
    histories = await drive_one_case(time_skipping_env.client, time_skipping_env, sqlite_url)
    histories.append(await drive_one_pilot(time_skipping_env.client, time_skipping_env, sqlite_url))
    histories.append(await drive_one_report(time_skipping_env.client, time_skipping_env, sqlite_url))
    histories.append(await drive_control_group_case(time_skipping_env.client, time_skipping_env, sqlite_url))
    assert len(histories) == 5
    for history in histories:
        result = await replayer().replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None
