"""Prometheus metrics of every process, and how the console and the launcher expose them.

The launcher gives all its processes one ``PROMETHEUS_MULTIPROC_DIR`` (``$DATA_DIR/run/metrics``),
so counters from console workers, Rasa replicas, action servers and the bot are summed across
processes and survive restarts; the console's ``/metrics`` (and the launcher's ``METRICS_PORT``,
when set) read them all. Without that directory (tests, scripts) metrics stay in the process.

The metrics are module-level objects, as prometheus_client intends; they carry labels, so no
value (and no file in the multiprocess directory) exists before a process first counts something.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from civil_affairs.ops.supervisor_status import read_status

__all__ = ["CONTENT_TYPE_LATEST", "exposition", "machine_registry"]

MESSAGES = Counter(
    "civil_affairs_messages_total", "Resident messages handled, by channel and outcome", ["channel", "outcome"]
)
MESSAGE_SECONDS = Histogram(
    "civil_affairs_message_seconds",
    "Time from a resident message to the bot's answer, by channel",
    ["channel"],
    buckets=(0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 4.0, 8.0),
)
FALLBACKS = Counter(
    "civil_affairs_nlu_fallbacks_total", "Messages the model could not place (nlu_fallback)", ["replica"]
)
UNKNOWN_ANSWERS = Counter(
    "civil_affairs_unknown_answers_total", "Questions the FAQ store could not answer (recorded for staff)", ["kind"]
)
HANDOFFS = Counter("civil_affairs_handoffs_total", "Conversations handed to staff, by reason", ["reason"])
BOOKINGS = Counter("civil_affairs_bookings_total", "Appointment submissions, by outcome", ["outcome"])
ERRORS = Counter("civil_affairs_errors_total", "Failures, by component and kind", ["component", "kind"])
ACTION_CALLS = Counter(
    "civil_affairs_action_calls_total",
    "Rasa's calls to several action servers, by outcome",
    ["outcome"],
)
TELEGRAM_UPDATES = Counter(
    "civil_affairs_telegram_updates_total", "Telegram updates received, by what became of them", ["outcome"]
)
TRACKER_EVENTS = Histogram(
    "civil_affairs_tracker_events",
    "Events Rasa replays to rebuild a conversation",
    ["replica"],
    buckets=(10, 25, 50, 100, 200, 400, 800, 1600, 3200),
)


class SupervisorCollector:
    """Restarts and up/down of each process, read from the launcher's status file."""

    def __init__(self, status_path: Path) -> None:
        self.status_path = status_path

    def collect(self) -> Iterator[Metric]:
        restarts = CounterMetricFamily(
            "civil_affairs_process_restarts", "Processes restarted by the launcher", labels=["process"]
        )
        up = GaugeMetricFamily("civil_affairs_process_up", "1 while the process serves", labels=["process"])
        status = read_status(self.status_path)
        if status is not None and not status.is_stale():
            for process in status.processes:
                restarts.add_metric([process.name], process.restarts)
                up.add_metric([process.name], 1.0 if process.state == "running" else 0.0)
        yield restarts
        yield up


def machine_registry(metrics_dir: Path | None, status_path: Path | None) -> CollectorRegistry:
    """A registry of this machine: every process's metrics (multiprocess files) and the launcher's view."""
    registry = CollectorRegistry()
    if metrics_dir is not None and metrics_dir.is_dir():
        multiprocess.MultiProcessCollector(registry, path=str(metrics_dir))  # type: ignore[no-untyped-call]
    if status_path is not None:
        registry.register(SupervisorCollector(status_path))
    return registry


def exposition(status_path: Path | None = None) -> bytes:
    """The text exposition for ``/metrics``: all processes when multiprocess mode is on, else this one."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        return generate_latest(machine_registry(Path(directory), status_path))
    output = generate_latest(REGISTRY)
    if status_path is not None:
        output += generate_latest(machine_registry(None, status_path))
    return output
