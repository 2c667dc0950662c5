"""Users with several roles, signed on through a local OpenID Connect provider, through the whole app
(Temporal, worker; SQLite and PostgreSQL): a check passes when any of their roles may; a step is done
and recorded in the first role that may take it where it is; personal data is seen (and its read
recorded, MIN-6) through the role that sees it, case by case."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from pydantic import SecretStr
from sqlmodel import Session, col, select

from famassist.settings import Settings
from persistence.db import make_engine
from persistence.models import PersonalDataRead
from tests.api.conftest import TEST_RESEARCH_KEY, Api
from tests.api.first_loop import assessment
from tests.api.identity_provider import IdentityProvider
from tests.factories import PERSONAL_CODE

ROLE_MAP = {"famassist-social-worker": "social_worker", "famassist-service-head": "service_head",
            "famassist-ministry": "ministry"}


@pytest.fixture
def idp() -> Any:
    provider = IdentityProvider().start()
    provider.new_key("RS256")
    yield provider
    provider.stop()


@pytest.fixture
def settings(database_url: str, tmp_path, idp: IdentityProvider) -> Settings:
    """The suite's settings (tests/api/conftest.py), tokens from a Keycloak-shaped provider."""
    return Settings(database_url=database_url, task_queue=f"api-{uuid.uuid4().hex[:8]}",
                    jwt_secret=SecretStr("unused-development-key-" + "k" * 20),
                    research_key=SecretStr(TEST_RESEARCH_KEY), var_dir=tmp_path,
                    oidc_issuer=idp.issuer, jwt_roles_claim="realm_access.roles", jwt_role_map=ROLE_MAP)


def user(idp: IdentityProvider, sub: str, *roles: str, municipality: str | None = None) -> dict[str, str]:
    claims: dict[str, Any] = {"sub": sub, "realm_access": {"roles": ["offline_access", *roles]}}
    if municipality is not None:
        claims["municipality"] = municipality
    return idp.bearer(claims)


async def open_case(api: Api, headers: dict[str, str]) -> str:
    opened = await api.http.post("/cases", headers=headers, json={
        "full_name": "Anna Ozola", "personal_code": PERSONAL_CODE, "consent": True})
    assert opened.status_code == 201, opened.text
    return str(opened.json()["case"]["case_id"])


def reads(api: Api, case_id: str) -> list[tuple[str, str, str]]:
    engine = make_engine(api.settings.database_url)
    try:
        with Session(engine) as session:
            rows = session.exec(select(PersonalDataRead).where(PersonalDataRead.case_id == case_id)
                                .order_by(col(PersonalDataRead.id))).all()
            return [(r.reader_id, r.reader_role, r.operation) for r in rows]
    finally:
        engine.dispose()


async def test_several_roles_act_each_in_the_role_that_may_and_see_personal_data_case_by_case(
        api: Api, idp: IdentityProvider) -> None:
    http = api.http
    ministry = user(idp, "lm-1", "famassist-ministry")  # no municipality: the ministry needs none
    head = user(idp, "head-1", "famassist-social-worker", "famassist-service-head", municipality="CESIS")
    boss = user(idp, "boss-1", "famassist-service-head", "famassist-ministry", municipality="CESIS")
    valmiera = user(idp, "sw-valmiera-1", "famassist-social-worker", municipality="VALMIERA")

    assert (await http.put("/municipalities/CESIS", headers=ministry,
                           json={"name": "Cēsis", "population": 15_000})).status_code == 200
    # opening a case (a manager's step) with an Idempotency-Key: the key belongs to this caller's roles
    key = {"Idempotency-Key": str(uuid.uuid4())}
    opened = await http.post("/cases", headers={**head, **key}, json={
        "full_name": "Anna Ozola", "personal_code": PERSONAL_CODE, "consent": True})
    again = await http.post("/cases", headers={**head, **key}, json={
        "full_name": "Anna Ozola", "personal_code": PERSONAL_CODE, "consent": True})
    assert opened.status_code == again.status_code == 201, again.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    case_id = opened.json()["case"]["case_id"]

    assessed = await http.post(f"/cases/{case_id}/assessment", headers=head, json=assessment())
    assert assessed.status_code == 200, assessed.text
    events = (await http.get(f"/cases/{case_id}/events", headers=head)).json()["items"]
    assert [(e["action"], e["actor_id"], e["actor_role"]) for e in events] == [
        ("registered", "head-1", "social_worker"), ("assessed", "head-1", "social_worker")]
    # the service head's own step, by the same caller: the order for an assistant (MUN-2)
    order = await http.post("/municipalities/CESIS/orders", headers=head, json={
        "assistant_id": f"ga-{uuid.uuid4().hex[:8]}", "number": "R-1", "issued_on": "2020-09-15"})
    assert order.status_code == 201, order.text

    # the ministry who is also Cēsis's service head: Cēsis's client with personal data, as service head …
    cesis = (await http.get(f"/cases/{case_id}", headers=boss)).json()
    assert cesis["client"]["personal_code"] == PERSONAL_CODE
    # … another municipality's case without, as the ministry: read, never changed, no read recorded
    other = await open_case(api, valmiera)
    seen = await http.get(f"/cases/{other}", headers=boss)
    assert seen.status_code == 200 and seen.json()["client"] is None
    refused = await http.post(f"/cases/{other}/handover", headers=boss,
                              json={"new_case_manager_id": "sw-valmiera-2", "reason": "leave"})
    assert refused.status_code == 403 and "ministry reads cases" in refused.json()["detail"]
    assert reads(api, other) == [("sw-valmiera-1", "social_worker", "POST /cases")]
    assert reads(api, case_id)[-1] == ("boss-1", "service_head", "GET /cases/{case_id}")
    assert ("head-1", "social_worker", "POST /cases/{case_id}/assessment") in reads(api, case_id)

    # the ministry's list of every municipality's reads, which the Cēsis head alone would not see
    log = (await http.get("/access-log", headers=boss)).json()["items"]
    assert {r["case_id"] for r in log} >= {case_id, other}
    own = (await http.get("/access-log", headers=head)).json()["items"]
    assert {r["case_id"] for r in own} == {case_id}
