"""The custom Temporal search attributes famassist registers, name -> type.

docker-compose.yml's ``temporal-search-attributes`` service registers exactly
these with ``temporal operator search-attribute create``.
"""

SEARCH_ATTRIBUTES: dict[str, str] = {
    "FamassistCaseStatus": "Keyword",
    "FamassistMunicipality": "Keyword",
    "FamassistAssistantId": "Keyword",
    # issue 10: the assistant's pilot (with FamassistMunicipality) and the quarterly reports
    "FamassistPilotPhase": "Keyword",
    "FamassistReportQuarter": "Keyword",
    "FamassistReportStatus": "Keyword",
}
