"""The Temporal SDK's own metrics and log lines, in the process's Prometheus registry and logs (issue 10).

Each process has one Temporal ``Runtime`` (:func:`temporal_runtime`), which every client of
the process uses (famassist/temporal.py, api/app.py). Its metrics go to an in-process buffer
that a daemon thread drains every second into :data:`SDK_METRICS`, a Prometheus collector the
API's ``/metrics`` and the worker's metrics endpoint (:func:`serve_worker_metrics`) both serve:
one scrape target per process. Core's own log lines (Rust) are forwarded to the
``temporalio.core`` logger, so they come out as the process's other lines (JSON in production).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

import structlog
from prometheus_client import CollectorRegistry, ProcessCollector, start_http_server
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    BufferedMetricUpdate,
    LogForwardingConfig,
    LoggingConfig,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

log = structlog.get_logger("famassist.telemetry")
BUFFER_SIZE = 200_000  # updates between two drains (one second): far above a busy worker's
DRAIN_SECONDS = 1.0
# The SDK's histograms are durations, reported in seconds.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
Labels = tuple[tuple[str, str], ...]


class Histogram:
    __slots__ = ("counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS) + 1)  # the last: above every bound
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[next((i for i, bound in enumerate(BUCKETS) if value <= bound), len(BUCKETS))] += 1
        self.sum += value


class SdkMetrics(Collector):
    """The SDK's counters, gauges and histograms, kept from the buffer's updates, as Prometheus families."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._buffer: MetricBuffer | None = None
        self._kinds: dict[str, tuple[int, str]] = {}  # name -> (kind, description)
        self._values: dict[str, dict[Labels, float]] = {}  # counters and gauges
        self._histograms: dict[str, dict[Labels, Histogram]] = {}

    def attach(self, buffer: MetricBuffer) -> None:
        self._buffer = buffer
        threading.Thread(target=self._drain_forever, name="temporal-metrics", daemon=True).start()

    def _drain_forever(self) -> None:
        while True:
            time.sleep(DRAIN_SECONDS)
            try:
                self.drain()
            except Exception as exc:  # a metrics hiccup never stops the process
                log.warning("temporal metrics not drained", error_type=type(exc).__name__)

    def drain(self) -> None:
        if self._buffer is not None:
            self.record(self._buffer.retrieve_updates())

    def record(self, updates: Sequence[BufferedMetricUpdate]) -> None:
        with self._lock:
            for update in updates:
                metric = update.metric
                self._kinds.setdefault(metric.name, (metric.kind, metric.description or metric.name))
                labels: Labels = tuple(sorted((str(k), str(v)) for k, v in update.attributes.items()))
                if metric.kind == BUFFERED_METRIC_KIND_COUNTER:
                    values = self._values.setdefault(metric.name, {})
                    values[labels] = values.get(labels, 0.0) + update.value
                elif metric.kind == BUFFERED_METRIC_KIND_GAUGE:
                    self._values.setdefault(metric.name, {})[labels] = float(update.value)
                else:
                    self._histograms.setdefault(metric.name, {}).setdefault(labels, Histogram()).observe(
                        float(update.value))

    def collect(self) -> Iterator[Metric]:
        self.drain()
        with self._lock:
            for name, (kind, description) in sorted(self._kinds.items()):
                if kind == BUFFERED_METRIC_KIND_COUNTER:
                    base = name.removesuffix("_total")
                    family = Metric(base, description, "counter")
                    for labels, value in self._values.get(name, {}).items():
                        family.add_sample(f"{base}_total", dict(labels), value)
                elif kind == BUFFERED_METRIC_KIND_GAUGE:
                    family = Metric(name, description, "gauge")
                    for labels, value in self._values.get(name, {}).items():
                        family.add_sample(name, dict(labels), value)
                else:
                    family = Metric(name, description, "histogram")
                    for labels, histogram in self._histograms.get(name, {}).items():
                        _histogram_samples(family, name, dict(labels), histogram)
                yield family


def _histogram_samples(family: Metric, name: str, labels: dict[str, str], histogram: Histogram) -> None:
    total = 0
    for bound, count in zip([*BUCKETS, float("inf")], histogram.counts, strict=True):
        total += count
        family.add_sample(f"{name}_bucket", {**labels, "le": _le(bound)}, total)
    family.add_sample(f"{name}_count", labels, total)
    family.add_sample(f"{name}_sum", labels, histogram.sum)


def _le(bound: float) -> str:
    """A bucket's upper bound as Prometheus writes it (``0.005``, ``1.0``, ``+Inf``)."""
    return "+Inf" if bound == float("inf") else repr(float(bound))


SDK_METRICS = SdkMetrics()


@functools.cache
def temporal_runtime() -> Runtime:
    """The process's Temporal runtime: metrics into :data:`SDK_METRICS`, Core's lines into Python's logging."""
    buffer = MetricBuffer(BUFFER_SIZE, duration_format=MetricBufferDurationFormat.SECONDS)
    runtime = Runtime(telemetry=TelemetryConfig(
        logging=LoggingConfig(filter=TelemetryFilter(core_level="WARN", other_level="ERROR"),
                              forwarding=LogForwardingConfig(logger=logging.getLogger("temporalio.core"))),
        metrics=buffer))
    SDK_METRICS.attach(buffer)
    return runtime


def process_registry() -> CollectorRegistry:
    """A registry with the SDK's metrics and the process's own (CPU, memory, open files)."""
    registry = CollectorRegistry()
    registry.register(SDK_METRICS)
    ProcessCollector(registry=registry)
    return registry


def serve_worker_metrics(address: str) -> Any:
    """The worker's metrics at ``http://<address>/metrics`` (``worker_metrics_address``, e.g. 0.0.0.0:9464).

    Returns the HTTP server (``shutdown()`` stops it). No token: bind it to the internal network only.
    """
    host, _, port = address.rpartition(":")
    server, _thread = start_http_server(int(port), addr=host or "0.0.0.0", registry=process_registry())
    log.info("worker metrics served", address=address)
    return server
