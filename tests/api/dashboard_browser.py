"""Driving the dashboard (api/dashboard) in Debian's chromium with Playwright: no browser download, ever.

``chromium()`` launches /usr/bin/chromium (skipped without it, failed under FAMASSIST_REQUIRE_BROWSER=1);
``shown(page)`` reads every figure the page shows, as text; ``expected(answers, lang)`` is what the page
must show for the /ministry answers it was given: the same values, with a decimal comma in Latvian.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
REQUIRE_ENV = "FAMASSIST_REQUIRE_BROWSER"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
SECTIONS = ["participation", "capacity", "timeliness", "outcomes", "money"]
NOT_DEFINED = "—"
NO_ROWS = {"lv": "Nav datu", "en": "No data"}
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"  # var/ is not in git

# Every figure the page shows, as text: section → totals, rows per municipality, the chart's bars.
SHOWN = """() => {
  const cell = (td) => {
    const inner = td.querySelector("table.inner");
    if (!inner) return td.textContent;
    return Object.fromEntries([...inner.querySelectorAll("tr[data-key]")]
      .map((tr) => [tr.dataset.key, tr.querySelector("td").textContent]));
  };
  const out = {};
  for (const section of document.querySelectorAll("section[data-section]")) {
    out[section.dataset.section] = {
      totals: Object.fromEntries([...section.querySelectorAll("[data-total]")]
        .map((td) => [td.dataset.total, cell(td)])),
      rows: Object.fromEntries([...section.querySelectorAll("tr[data-municipality]")]
        .map((tr) => [tr.dataset.municipality, Object.fromEntries([...tr.querySelectorAll("td[data-figure]")]
          .map((td) => [td.dataset.figure, cell(td)]))])),
      bars: [...section.querySelectorAll("svg.chart g[data-municipality]")].map((g) => g.dataset.municipality),
    };
  }
  return out;
}"""


def browser_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


@asynccontextmanager
async def chromium() -> AsyncIterator[Any]:
    """Debian's chromium, headless, driven by Playwright (its own browsers are never installed)."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (Debian: apt-get install chromium)"
        if browser_required():
            pytest.fail(f"a browser is required ({REQUIRE_ENV}=1): {reason}", pytrace=False)
        pytest.skip(f"the dashboard's browser test needs Debian's chromium: {reason}")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS, headless=True)
        try:
            yield browser
        finally:
            await browser.close()


def show(value: Any, lang: str) -> str:
    """As dashboard.js shows a value: null as a dash, a decimal string with a comma in Latvian."""
    if value is None:
        return NOT_DEFINED
    text = str(value)
    return text.replace(".", ",", 1) if lang == "lv" else text


def _cell(value: Any, lang: str) -> Any:
    if isinstance(value, dict):
        return {key: show(inner, lang) for key, inner in value.items()} if value else NO_ROWS[lang]
    return show(value, lang)


def expected(answers: dict[str, dict[str, Any]], lang: str) -> dict[str, Any]:
    """What the page must show for these answers (the bars: the municipalities, when a figure is chartable)."""
    out: dict[str, Any] = {}
    for section, answer in answers.items():
        figures = list(answer["totals"])
        rows = answer["municipalities"]
        chartable = any(not isinstance(answer["totals"][f], dict) and all(
            row[f] is None or _is_number(row[f]) for row in rows) for f in figures)
        out[section] = {
            "totals": {figure: _cell(value, lang) for figure, value in answer["totals"].items()},
            "rows": {row["municipality"]: {figure: _cell(row[figure], lang) for figure in figures} for row in rows},
            "bars": [row["municipality"] for row in rows] if chartable else [],
        }
    return out


def _is_number(value: Any) -> bool:
    if isinstance(value, bool | dict):
        return False
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


async def screenshot(page: Any, tmp_path: Path, name: str) -> Path:
    """A full-page screenshot in the test's tmp dir, copied to var/screenshots/ (printed by the test)."""
    taken = tmp_path / name
    await page.screenshot(path=str(taken), full_page=True)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    kept = SCREENSHOTS / name
    shutil.copyfile(taken, kept)
    return kept
