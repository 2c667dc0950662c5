"""The worker's sizes: defaults for a national roll-out, and no slot left waiting for a thread or a connection."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from famassist.settings import Settings
from persistence.db import make_engine
from workflows.messages import records_queue


def test_the_defaults_cache_more_workflows_than_there_are_active_cases_nationally() -> None:
    settings = Settings()
    assert settings.worker_max_cached_workflows >= 15_000 > 1_000  # the SDK's default would evict and replay
    assert settings.worker_activity_threads >= settings.worker_max_concurrent_record_activities
    assert settings.worker_db_pool_size + settings.worker_db_max_overflow >= (
        settings.worker_activity_threads + settings.worker_max_concurrent_local_activities)


def test_fewer_threads_than_record_slots_are_refused() -> None:
    with pytest.raises(ValidationError, match="worker_activity_threads"):
        Settings(worker_max_concurrent_record_activities=16, worker_activity_threads=8)


def test_fewer_connections_than_threads_are_refused() -> None:
    with pytest.raises(ValidationError, match="worker_db_pool_size"):
        Settings(worker_activity_threads=16, worker_db_pool_size=4, worker_db_max_overflow=4)


def test_fewer_connections_than_record_threads_and_local_activities_together_are_refused() -> None:
    with pytest.raises(ValidationError, match="worker_max_concurrent_local_activities"):
        Settings(worker_activity_threads=16, worker_max_concurrent_local_activities=16,
                 worker_db_pool_size=16, worker_db_max_overflow=8)


def test_the_records_queue_is_named_after_the_task_queue() -> None:
    assert records_queue("famassist") == "famassist-records"


def test_the_worker_pool_sizes_reach_the_engine(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'pool.db'}", pool_size=3, max_overflow=2)
    try:
        assert engine.pool.size() == 3  # type: ignore[attr-defined]
        assert engine.pool._max_overflow == 2  # type: ignore[attr-defined]
    finally:
        engine.dispose()
