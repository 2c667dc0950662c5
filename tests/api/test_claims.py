"""From a provider's claims to our roles and municipality (api/claims.py): Keycloak, Entra ID and the
development tokens' own claims."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from api.claims import ClaimMapping, MissingClaim, NotPermitted, claim_at, identity_of
from domain.roles import Role
from famassist.settings import Settings

DEV = ClaimMapping()
KEYCLOAK = ClaimMapping(roles_claim="realm_access.roles", role_map={
    "famassist-social-worker": Role.SOCIAL_WORKER, "famassist-service-head": Role.SERVICE_HEAD,
    "famassist-ministry": Role.MINISTRY})
CESIS_GROUP, VALMIERA_GROUP = "4b1c0d3e-0000-4000-8000-00000000cesi", "4b1c0d3e-0000-4000-8000-00000000valm"
ENTRA = ClaimMapping(user_claim="oid", roles_claim="roles", role_map={
    "FamAssist.SocialWorker": Role.SOCIAL_WORKER, "FamAssist.ServiceHead": Role.SERVICE_HEAD,
    "FamAssist.Assistant": Role.ASSISTANT, "FamAssist.Ministry": Role.MINISTRY},
    municipality_claim="groups", municipality_map={CESIS_GROUP: "CESIS", VALMIERA_GROUP: "VALMIERA"})


def test_the_development_tokens_claims_give_one_role_as_before() -> None:
    who = identity_of({"sub": "sw-cesis-1", "role": "social_worker", "municipality": "CESIS"}, DEV)
    assert (who.user_id, who.roles, who.municipality) == ("sw-cesis-1", frozenset({Role.SOCIAL_WORKER}), "CESIS")


def test_keycloak_realm_roles_map_to_several_roles_and_its_own_roles_are_ignored() -> None:
    claims = {"sub": "u-1", "municipality": "CESIS", "realm_access": {"roles": [
        "offline_access", "uma_authorization", "default-roles-famassist", "famassist-social-worker",
        "famassist-service-head"]}}
    who = identity_of(claims, KEYCLOAK)
    assert who.roles == {Role.SOCIAL_WORKER, Role.SERVICE_HEAD} and who.municipality == "CESIS"


def test_entra_app_roles_and_a_group_mapped_to_the_municipality() -> None:
    claims = {"sub": "pairwise", "oid": "0f9e-user", "roles": ["FamAssist.Assistant"],
              "groups": ["some-other-group", CESIS_GROUP]}
    who = identity_of(claims, ENTRA)
    assert (who.user_id, who.roles, who.municipality) == ("0f9e-user", frozenset({Role.ASSISTANT}), "CESIS")


def test_a_missing_roles_claim_is_named() -> None:
    with pytest.raises(MissingClaim, match=r"the token has no `realm_access.roles` claim"):
        identity_of({"sub": "u-1", "municipality": "CESIS", "realm_access": {}}, KEYCLOAK)


def test_a_missing_user_claim_is_named() -> None:
    with pytest.raises(MissingClaim, match=r"no `oid` claim"):
        identity_of({"sub": "u-1", "roles": ["FamAssist.Ministry"]}, ENTRA)


def test_roles_that_map_to_none_of_ours_are_refused_naming_them() -> None:
    with pytest.raises(NotPermitted, match=r"none of the roles in the token's `realm_access.roles` claim "
                                           r"\(offline_access, uma_authorization\)"):
        identity_of({"sub": "u-1", "municipality": "CESIS",
                     "realm_access": {"roles": ["offline_access", "uma_authorization"]}}, KEYCLOAK)


def test_the_system_role_or_another_name_is_never_a_callers_and_the_token_is_not_accepted() -> None:
    with pytest.raises(MissingClaim, match=r"`role` claim names no role of this service \(system\)"):
        identity_of({"sub": "u-1", "role": "system", "municipality": "CESIS"}, DEV)
    with pytest.raises(MissingClaim, match=r"\(mayor\)"):
        identity_of({"sub": "u-1", "role": ["social_worker", "mayor"], "municipality": "CESIS"}, DEV)


def test_a_municipal_role_needs_the_municipality_claim_and_names_it() -> None:
    with pytest.raises(MissingClaim, match=r"no `municipality` claim, which the roles social_worker need"):
        identity_of({"sub": "u-1", "role": "social_worker"}, DEV)


def test_the_ministry_needs_no_municipality() -> None:
    who = identity_of({"sub": "lm-1", "oid": "lm-1", "roles": ["FamAssist.Ministry"]}, ENTRA)
    assert who.roles == {Role.MINISTRY} and who.municipality == ""


def test_groups_of_several_municipalities_are_refused() -> None:
    with pytest.raises(NotPermitted, match="several municipalities \\(CESIS, VALMIERA\\)"):
        identity_of({"oid": "u", "roles": ["FamAssist.SocialWorker"], "groups": [CESIS_GROUP, VALMIERA_GROUP]},
                    ENTRA)


def test_groups_that_map_to_no_municipality_are_refused_for_a_municipal_role() -> None:
    with pytest.raises(NotPermitted, match="FAMASSIST_JWT_MUNICIPALITY_MAP"):
        identity_of({"oid": "u", "roles": ["FamAssist.SocialWorker"], "groups": ["unrelated"]}, ENTRA)
    with pytest.raises(NotPermitted, match="FAMASSIST_JWT_MUNICIPALITY_MAP"):
        identity_of({"oid": "u", "roles": ["FamAssist.SocialWorker"], "groups": []}, ENTRA)
    with pytest.raises(MissingClaim, match="no `groups` claim"):
        identity_of({"oid": "u", "roles": ["FamAssist.SocialWorker"]}, ENTRA)


def test_a_municipality_claim_that_is_not_a_code_is_refused() -> None:
    with pytest.raises(MissingClaim, match="not a municipality code"):
        identity_of({"sub": "u", "role": "social_worker", "municipality": "Cēsis novads"}, DEV)


def test_a_malformed_roles_claim_is_named() -> None:
    with pytest.raises(MissingClaim, match=r"`role` claim is not a name or a list of names"):
        identity_of({"sub": "u", "role": {"social_worker": True}, "municipality": "CESIS"}, DEV)


def test_a_claim_named_with_a_dot_is_taken_before_the_path() -> None:
    assert claim_at({"realm_access.roles": ["a"], "realm_access": {"roles": ["b"]}}, "realm_access.roles") == ["a"]
    assert claim_at({"resource_access": {"famassist": {"roles": ["c"]}}}, "resource_access.famassist.roles") == ["c"]


def test_the_mapping_is_read_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAMASSIST_JWT_ROLES_CLAIM", "realm_access.roles")
    monkeypatch.setenv("FAMASSIST_JWT_ROLE_MAP", '{"famassist-ministry": "ministry"}')
    monkeypatch.setenv("FAMASSIST_JWT_MUNICIPALITY_MAP", '{"/municipalities/cesis": "CESIS"}')
    monkeypatch.setenv("FAMASSIST_JWT_MUNICIPALITY_CLAIM", "groups")
    mapping = ClaimMapping.of(Settings())
    assert mapping.role_map == {"famassist-ministry": Role.MINISTRY}
    assert mapping.municipality_map == {"/municipalities/cesis": "CESIS"}
    who = identity_of({"sub": "u", "realm_access": {"roles": ["famassist-ministry"]},
                       "groups": ["/municipalities/cesis"]}, mapping)
    assert who.municipality == "CESIS"


def test_settings_refuse_mapping_to_the_system_role_or_to_no_role() -> None:
    with pytest.raises(ValidationError, match="system role"):
        Settings(jwt_role_map={"admins": "system"})
    with pytest.raises(ValidationError):
        Settings(jwt_role_map={"admins": "administrator"})
    with pytest.raises(ValidationError, match="not municipality codes: Cēsis"):
        Settings(jwt_municipality_map={"g": "Cēsis"})
