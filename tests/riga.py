"""Today and tomorrow as the service sees them: Riga dates, never the machine's (DOMAIN.md "Dates")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from domain.calendar import local_date


def riga_today() -> date:
    """Today's date in Riga, from the (possibly frozen) UTC clock."""
    return local_date(datetime.now(UTC))


def riga_tomorrow() -> date:
    return riga_today() + timedelta(days=1)
