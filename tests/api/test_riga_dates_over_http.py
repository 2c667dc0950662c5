"""Timesheet dates over HTTP with the API's clock frozen at 23:30 and 00:30 UTC (DOMAIN.md "Dates", HRS-1).

At 23:30 UTC it is already tomorrow in Riga: the service takes hours for that Riga date and
refuses the Riga date after it as a future date. The assistant is set up first on the real
clock (the Temporal dev server's clock cannot be moved); only the timesheet requests, which
read nothing but the database, run on the frozen clock. The frozen moments are the next
23:30 UTC and the 00:30 UTC after it, so they are never before the assistant's own dates.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import time_machine

from domain.calendar import local_date
from domain.roles import Role
from tests.api.conftest import Api, new_assistant_id, serving_assistant
from tests.riga import riga_today, riga_tomorrow


def next_23_30_utc() -> datetime:
    now = datetime.now(UTC)
    moment = datetime.combine(now.date(), time(23, 30), tzinfo=UTC)
    return moment if moment > now else moment + timedelta(days=1)


async def log(api: Api, assistant_id: str, headers: dict[str, str], day: date, **fields: Any) -> Any:
    body = {"worked_on": str(day), "hours": "1", "kind": "other", **fields}
    return await api.http.post(f"/assistants/{assistant_id}/timesheet", headers=headers, json=body)


async def test_hrs1_at_23_30_and_00_30_utc_hours_for_today_in_riga_are_taken_and_tomorrow_refused(api: Api) -> None:
    ga = new_assistant_id()
    await serving_assistant(api, ga)
    late = next_23_30_utc()
    riga_date = late.date() + timedelta(days=1)  # 01:30 or 02:30 in Riga, the next day

    for moment in (late, late + timedelta(hours=1)):  # 23:30 UTC, then 00:30 UTC: the same Riga day
        with time_machine.travel(moment, tick=True):
            assert riga_today() == local_date(datetime.now(UTC)) == riga_date
            me = api.auth(Role.ASSISTANT, user=ga)  # issued on the frozen clock
            today = await log(api, ga, me, riga_today(), note=f"at {moment:%H:%M} UTC")
            assert today.status_code == 201, today.text
            assert today.json()["worked_on"] == str(riga_date)
            tomorrow = await log(api, ga, me, riga_tomorrow())
            assert tomorrow.status_code == 409 and tomorrow.json()["rule"] == "HRS-1", tomorrow.text
            # The listing's default period ends today in Riga, so it shows the entry just logged.
            listed = await api.http.get(f"/assistants/{ga}/timesheet", headers=me)
            assert listed.status_code == 200, listed.text
            days = [e["worked_on"] for e in listed.json()["items"]]
            assert days.count(str(riga_date)) == (1 if moment == late else 2)
            assert str(riga_date + timedelta(days=1)) not in days
