"""Single sign-on over HTTP (issue 10): tokens from a local OpenID Connect provider the test starts
(tests/api/identity_provider.py: its own keys, discovery document and JWKS endpoint on a free port),
checked by the app with the provider's published keys; rotation, refusals naming the claim, and the
provider down. The app runs in-process with a Temporal address nobody listens on: these routes need
only the token and the database.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest
from pydantic import SecretStr

from api.app import create_app
from domain.roles import Role
from famassist.settings import Settings
from famassist.tokens import issue_dev_token
from tests.api.identity_provider import IdentityProvider

PROBLEM = "application/problem+json"
KEYCLOAK_ROLES = {"famassist-ministry": "ministry", "famassist-social-worker": "social_worker",
                  "famassist-service-head": "service_head"}
CESIS_GROUP = "9a0c5f6e-1d2b-4c3a-8e7f-000000000001"
ENTRA_ROLES = {"FamAssist.Ministry": "ministry", "FamAssist.ServiceHead": "service_head",
               "FamAssist.SocialWorker": "social_worker"}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def idp() -> Any:
    provider = IdentityProvider().start()
    provider.new_key("RS256")
    yield provider
    provider.stop()


@pytest.fixture
def keycloak(idp: IdentityProvider, sqlite_url: str, tmp_path) -> Callable[..., Settings]:
    """Settings as for a municipality's Keycloak realm (README, Single sign-on), found by discovery."""

    def settings(**overrides: Any) -> Settings:
        return Settings(**{
            "database_url": sqlite_url, "temporal_address": f"127.0.0.1:{closed_port()}", "var_dir": tmp_path,
            "jwt_secret": SecretStr("dev-key-that-sso-must-not-accept-" + "z" * 16),
            "oidc_issuer": idp.issuer, "jwt_audience": "famassist", "jwks_refetch_seconds": 0.2,
            "jwt_roles_claim": "realm_access.roles", "jwt_role_map": KEYCLOAK_ROLES, **overrides})

    return settings


@asynccontextmanager
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://famassist.test") as http:
            yield http


def ministry(idp: IdentityProvider, **options: Any) -> dict[str, str]:
    """A Keycloak-shaped token of a ministry user: realm roles, and no municipality (none is needed)."""
    return idp.bearer({"sub": "lm-1", "realm_access": {"roles": ["offline_access", "famassist-ministry"]}},
                      **options)


def problem_of(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM
    body = answer.json()
    assert body["status"] == status and body["title"]
    return body


async def test_a_keycloak_token_is_checked_with_the_keys_the_discovery_document_names(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    async with client(keycloak()) as http:
        for _ in range(5):
            answer = await http.get("/municipalities", headers=ministry(idp))
            assert answer.status_code == 200, answer.text
    # the discovery document and the key set were fetched once, then kept
    assert (idp.discovery_requests, idp.jwks_requests) == (1, 1)


async def test_a_jwks_url_without_discovery_and_an_es256_key(idp: IdentityProvider,
                                                            keycloak: Callable[..., Settings]) -> None:
    kid = idp.new_key("ES256")
    settings = keycloak(oidc_issuer=None, jwks_url=idp.jwks_uri, jwt_issuer=idp.issuer)
    async with client(settings) as http:
        assert (await http.get("/municipalities", headers=ministry(idp, kid=kid))).status_code == 200
    assert (idp.discovery_requests, idp.jwks_requests) == (0, 1)


async def test_a_rotated_key_is_fetched_by_its_kid_and_the_withdrawn_one_refused(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    old = idp.published[-1]
    async with client(keycloak()) as http:
        assert (await http.get("/municipalities", headers=ministry(idp, kid=old))).status_code == 200
        new = idp.new_key("RS256")  # the provider rotates: a new key appears, the old one is withdrawn
        idp.withdraw(old)
        assert (await http.get("/municipalities", headers=ministry(idp, kid=old))).status_code == 200  # kept set
        await asyncio.sleep(0.3)  # past jwks_refetch_seconds
        assert (await http.get("/municipalities", headers=ministry(idp, kid=new))).status_code == 200
        assert idp.jwks_requests == 2  # the unknown kid fetched the set again
        refused = problem_of(await http.get("/municipalities", headers=ministry(idp, kid=old)), 401)
        assert f"no key with kid '{old}'" in refused["detail"]
        assert refused["type"] == "about:blank" and "Bearer" in (await http.get(
            "/municipalities", headers=ministry(idp, kid=old))).headers["www-authenticate"]


async def test_a_flood_of_unknown_kids_fetches_the_key_set_at_most_once_an_interval(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    unpublished = idp.new_key("RS256", publish=False)
    async with client(keycloak(jwks_refetch_seconds=60)) as http:
        assert (await http.get("/municipalities", headers=ministry(idp))).status_code == 200
        forged = [ministry(idp, kid=unpublished) for _ in range(30)]
        answers = await asyncio.gather(*(http.get("/municipalities", headers=h) for h in forged))
        assert {a.status_code for a in answers} == {401}
        assert idp.jwks_requests == 1  # fetched a moment ago: no fetch for any of the thirty
        assert (await http.get("/municipalities", headers=ministry(idp))).status_code == 200


async def test_a_slow_key_fetch_holds_up_no_request_whose_key_is_kept(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    async with client(keycloak()) as http:
        assert (await http.get("/municipalities", headers=ministry(idp))).status_code == 200
        await asyncio.sleep(0.3)
        idp.delay = 2.0  # the provider takes two seconds to answer the next fetch
        rotated = asyncio.create_task(http.get("/municipalities", headers=ministry(idp, kid=idp.new_key())))
        await asyncio.sleep(0.2)  # the fetch for the new kid is under way
        loop = asyncio.get_running_loop()
        started = loop.time()
        kept = await http.get("/municipalities", headers=ministry(idp, kid=idp.published[0]))
        assert kept.status_code == 200 and loop.time() - started < 1.5 and not rotated.done()
        assert (await rotated).status_code == 200


@pytest.mark.parametrize(("options", "reason"), [
    ({"audience": "another-app"}, "Audience doesn't match"),
    ({"issuer": "http://127.0.0.1:1/realms/other"}, "Invalid issuer"),
    ({"expires_in": timedelta(minutes=-1)}, "Signature has expired"),
], ids=["audience", "issuer", "expired"])
async def test_the_wrong_audience_or_issuer_or_an_expired_token_is_401(
        idp: IdentityProvider, keycloak: Callable[..., Settings], options: dict[str, Any], reason: str) -> None:
    async with client(keycloak()) as http:
        refused = problem_of(await http.get("/municipalities", headers=ministry(idp, **options)), 401)
    assert reason in refused["detail"]


async def test_a_development_token_or_another_algorithm_is_401_when_tokens_come_from_the_provider(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    settings = keycloak()
    dev = issue_dev_token(settings, role=Role.MINISTRY, municipality="LV", user_id="lm-1")
    async with client(settings) as http:
        refused = problem_of(await http.get("/municipalities", headers={"Authorization": f"Bearer {dev}"}), 401)
        assert "names no key (kid)" in refused["detail"]
        kid = idp.published[-1]
        # an HS256 token naming the provider's kid: a public key is never taken for a shared secret
        confused = jwt.encode({"sub": "x", "iss": idp.issuer, "aud": "famassist", "exp": 4_102_444_800,
                               "realm_access": {"roles": ["famassist-ministry"]}}, "s" * 32, algorithm="HS256",
                              headers={"kid": kid})
        refused = problem_of(await http.get("/municipalities", headers={"Authorization": f"Bearer {confused}"}), 401)
        assert "algorithm 'HS256' is not one of ES256, RS256" in refused["detail"]


async def test_a_missing_claim_is_401_naming_it_and_roles_not_ours_403_naming_them(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    async with client(keycloak()) as http:
        no_roles = await http.get("/municipalities", headers=idp.bearer({"sub": "u-1", "realm_access": {}}))
        assert "the token has no `realm_access.roles` claim" in problem_of(no_roles, 401)["detail"]
        worker = {"sub": "sw-1", "realm_access": {"roles": ["famassist-social-worker"]}}
        no_place = await http.get("/municipalities", headers=idp.bearer(worker))
        assert "the token has no `municipality` claim" in problem_of(no_place, 401)["detail"]
        others = await http.get("/municipalities", headers=idp.bearer(
            {"sub": "u-1", "realm_access": {"roles": ["offline_access", "uma_authorization"]}}))
        detail = problem_of(others, 403)["detail"]
        assert "none of the roles in the token's `realm_access.roles` claim (offline_access, uma_authorization)" \
            in detail


async def test_a_caller_with_several_roles_passes_a_check_any_of_them_passes(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    """A social worker who is also the service head reads the access log (MIN-6: the service head's) and
    the ministry's figures for their municipality; with the social worker's role alone, neither."""
    async with client(keycloak()) as http:
        both = idp.bearer({"sub": "head-1", "municipality": "CESIS", "realm_access": {
            "roles": ["famassist-social-worker", "famassist-service-head"]}})
        worker = idp.bearer({"sub": "sw-1", "municipality": "CESIS", "realm_access": {
            "roles": ["famassist-social-worker"]}})
        assert (await http.get("/access-log", headers=both)).status_code == 200
        refused = problem_of(await http.get("/access-log", headers=worker), 403)
        assert refused["detail"] == "none of the roles social_worker may do this (it needs service_head or ministry)"
        assert (await http.get("/municipalities", headers=both)).status_code == 200


async def test_entra_app_roles_and_groups_map_to_roles_and_the_municipality(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    settings = keycloak(jwt_user_claim="oid", jwt_roles_claim="roles", jwt_role_map=ENTRA_ROLES,
                        jwt_municipality_claim="groups", jwt_municipality_map={CESIS_GROUP: "CESIS"})
    async with client(settings) as http:
        head = idp.bearer({"sub": "pairwise-x", "oid": "0f9e1c2d-head", "roles": ["FamAssist.ServiceHead"],
                           "groups": ["5e5e5e5e-other", CESIS_GROUP]})
        assert (await http.get("/access-log", headers=head)).status_code == 200
        no_group = idp.bearer({"oid": "0f9e1c2d-sw", "roles": ["FamAssist.SocialWorker"], "groups": []})
        assert "FAMASSIST_JWT_MUNICIPALITY_MAP" in problem_of(await http.get("/access-log", headers=no_group),
                                                              403)["detail"]


async def test_the_provider_down_is_503_with_the_problem_model_and_kept_keys_still_serve(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    async with client(keycloak()) as http:
        idp.stop()  # down before the app ever fetched its keys
        down = problem_of(await http.get("/municipalities", headers=ministry(idp)), 503)
        assert "identity provider's keys cannot be fetched" in down["detail"] and down["instance"] == "/municipalities"
        assert down["detail"].endswith("retry later")
        assert (await http.get("/municipalities", headers=ministry(idp))).headers["retry-after"] == "5"
        idp.start()  # back on the same port
        await asyncio.sleep(0.3)
        assert (await http.get("/municipalities", headers=ministry(idp))).status_code == 200
        idp.stop()  # down again: the keys fetched are kept
        assert (await http.get("/municipalities", headers=ministry(idp))).status_code == 200
        await asyncio.sleep(0.3)
        new = idp.new_key("RS256")  # a token with a key the app has not fetched: 503 while the provider is down
        problem_of(await http.get("/municipalities", headers=ministry(idp, kid=new)), 503)


async def test_the_openapi_documents_the_503_of_the_provider_only_with_single_sign_on(
        keycloak: Callable[..., Settings], sqlite_url: str, tmp_path) -> None:
    async with client(keycloak()) as http:
        document = (await http.get("/openapi.json")).json()
    answers = document["paths"]["/municipalities"]["get"]["responses"]
    assert "identity provider" in answers["503"]["description"] and "Retry-After" in answers["503"]["headers"]
    assert "realm_access.roles" in answers["401"]["description"]
    health = document["paths"]["/health"]["get"]["responses"]  # no token: no provider (its 503 is its own)
    assert all("identity provider" not in answer["description"] for answer in health.values())
    async with client(Settings(database_url=sqlite_url, var_dir=tmp_path,
                               temporal_address=f"127.0.0.1:{closed_port()}")) as http:
        plain = (await http.get("/openapi.json")).json()
    assert "503" not in plain["paths"]["/municipalities"]["get"]["responses"]


async def test_a_token_checked_once_is_taken_again_only_while_its_key_is_held(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    """Issue 8: a repeated token's signature is checked once; once its key is withdrawn it is refused again."""
    old = idp.published[-1]
    headers = ministry(idp, kid=old)  # the same token on every request, as a client sends it
    app = create_app(keycloak())
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        for _ in range(3):
            assert (await http.get("/municipalities", headers=headers)).status_code == 200
        assert app.state.token_verifier.checks == 1
        idp.new_key("RS256")
        idp.withdraw(old)
        await asyncio.sleep(0.3)  # past jwks_refetch_seconds
        assert (await http.get("/municipalities", headers=ministry(idp))).status_code == 200  # fetches the set
        refused = problem_of(await http.get("/municipalities", headers=headers), 401)
    assert f"no key with kid '{old}'" in refused["detail"]


async def test_a_remembered_token_checked_again_by_requests_at_once_after_a_refetch_passes_them_all(
        idp: IdentityProvider, keycloak: Callable[..., Settings]) -> None:
    """Issue 8: once the key set is fetched again its keys are new objects, so a remembered token is checked
    again; requests doing so at once all pass, and the set is fetched once for all of them."""
    headers = ministry(idp)
    app = create_app(keycloak(jwks_cache_seconds=0.2))
    async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://famassist.test") as http:
        assert (await http.get("/municipalities", headers=headers)).status_code == 200
        await asyncio.sleep(0.3)  # past jwks_cache_seconds and jwks_refetch_seconds: the set is fetched again
        answers = await asyncio.gather(*(http.get("/municipalities", headers=headers) for _ in range(4)))
    assert [answer.status_code for answer in answers] == [200] * 4
    assert 2 <= app.state.token_verifier.checks <= 5 and idp.jwks_requests == 2
