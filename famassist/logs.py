"""Logging: console in development, JSON in production, for every logger. No personal data.

structlog's own lines and every standard-library logger's (uvicorn's, fontTools', asyncio's, the
Temporal SDK's and its Core's, forwarded by famassist/telemetry.py) go through one handler on the
root logger, formatted by structlog's ``ProcessorFormatter``: with ``log_format=json`` every line
on stdout is one JSON object. uvicorn's access line keeps method, path (never the query string,
CASE-6) and status as fields. fontTools logs about 40 lines per PDF it subsets: it is heard at
DEBUG only.
"""

from __future__ import annotations

import logging
import sys
from types import TracebackType
from typing import TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

# uvicorn configures these with handlers of its own (plain text) before it loads the app.
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")
CHATTY = ("fontTools",)  # heard at DEBUG only


class StdoutHandler(logging.StreamHandler[TextIO]):
    """Writes to the ``sys.stdout`` of the moment (a test's capture, a redirected stream)."""

    @property
    def stream(self) -> TextIO:
        return sys.stdout

    @stream.setter
    def stream(self, value: TextIO) -> None:  # StreamHandler.__init__ sets it
        pass


def uvicorn_access_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """uvicorn's access line as fields: method, path without its query (CASE-6), status; no client address."""
    args = event_dict.pop("positional_args", None)  # the record's arguments (pass_foreign_args)
    record = event_dict.get("_record")
    if record is not None and record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
        _client, method, full_path, http_version, status = args
        event_dict.update(event="http access", method=method, path=str(full_path).split("?", 1)[0],
                          status=status, http_version=http_version)
    return event_dict


def _shared(*, named: bool) -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        *([structlog.stdlib.add_logger_name] if named else []),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def formatter(fmt: str) -> structlog.stdlib.ProcessorFormatter:
    renderer: Processor = (
        structlog.processors.JSONRenderer() if fmt == "json" else structlog.dev.ConsoleRenderer(colors=False))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_shared(named=True), uvicorn_access_fields], pass_foreign_args=True,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.format_exc_info, renderer],
    )


def configure_logging(fmt: str = "console", level: str = "INFO") -> None:
    """structlog through the standard library, and one handler on the root logger for everything."""
    numeric: int = logging.getLevelName(level.upper())
    structlog.configure(
        # the console shows structlog's own lines as before (no logger name); JSON names every line's logger
        processors=[*_shared(named=fmt == "json"), structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, StdoutHandler)]:
        root.removeHandler(handler)  # configured again (tests): one handler, never two
    handler = StdoutHandler()
    handler.setFormatter(formatter(fmt))
    root.addHandler(handler)
    root.setLevel(numeric)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if logger.handlers:  # uvicorn's own (a disabled access log has none and does not propagate)
            logger.handlers.clear()
            logger.propagate = True
    for name in CHATTY:
        logging.getLogger(name).setLevel(max(numeric, logging.WARNING) if numeric > logging.DEBUG else numeric)
    if fmt == "json":
        logging.captureWarnings(True)  # warnings as log lines (py.warnings), JSON too
        sys.excepthook = _log_uncaught  # a crash's traceback as one JSON line, not as plain text


def _log_uncaught(kind: type[BaseException], error: BaseException, traceback: TracebackType | None) -> None:
    logging.getLogger("famassist").critical("uncaught exception", exc_info=(kind, error, traceback))
