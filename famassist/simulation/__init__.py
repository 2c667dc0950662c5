"""``famassist simulate``: a pilot round on Temporal's time-skipping server, for what-if questions.

The real workflows and activities run in a worker against a fresh SQLite database, in a process of
its own (:mod:`.worker_process`, its clock held to the server's); people act through the real API
app in-process (httpx ASGITransport, development tokens), many at once.
Modules: :mod:`.scenario` (who does what when, from a seed), :mod:`.environment` (server, database,
worker, app, clock: the one place that knows how they are built), :mod:`.people` (the API calls),
:mod:`.reports` (the quarterly reports), :mod:`.round` (the weeks), :mod:`.figures` (what it prints).
"""

from famassist.simulation.figures import Figures
from famassist.simulation.round import quiet_logs, simulate
from famassist.simulation.scenario import Options

__all__ = ["Figures", "Options", "quiet_logs", "simulate"]
