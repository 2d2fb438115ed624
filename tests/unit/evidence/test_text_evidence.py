"""Evidence from a text search lists only rows whose caption holds every word of the query."""

from __future__ import annotations

import pytest

from traindex.catalog.text import fold
from traindex.config import Settings
from traindex.core.signing import Signer
from traindex.errors import InputError
from traindex.evidence.build import runs_from_json
from traindex.evidence.letters import compose_letter
from traindex.evidence.service import EvidenceService
from traindex.search.queries import Query

pytestmark = pytest.mark.shared


def test_an_unquoted_name_needs_every_word(demo_settings: Settings, signer: Signer) -> None:
    service = EvidenceService(demo_settings, signer)
    run = service.search_query(Query("text", "Robert Kneschke"))
    assert run.matches == []  # the LAION sample has Roberts, but no Robert Kneschke
    rendered = service.report([run], "Robert Kneschke")
    assert [q.outcome for q in rendered.sealed.report.queries] == ["not found"]
    with pytest.raises(InputError, match="no matching rows"):
        compose_letter(rendered.sealed, "gdpr-erasure", "en")


def test_an_or_search_lists_only_rows_with_all_words(
    demo_settings: Settings, signer: Signer
) -> None:
    service = EvidenceService(demo_settings, signer)
    run = service.search_query(Query("text", "robert OR burns"))
    report = service.report([run], "x").sealed.report
    assert report.matches
    for match in report.matches:
        assert {"robert", "burns"} <= set(fold(match.caption or ""))
        assert set(match.matched_terms) == {"robert", "burns"}
    (query,) = report.queries
    assert query.listed == len(report.matches)
    assert query.detail is not None
    assert "contain only some of the words are not listed" in query.detail


def test_search_json_with_rows_holding_some_words_is_filtered() -> None:
    """A search JSON saved before all words were required still gives honest evidence."""
    row = {"dataset": "d", "release": "r", "shard": "s", "url": "http://a.example/1.jpg"}
    row |= {"caption": None, "license": None, "width": None, "height": None}
    row |= {"method": "text", "score": 1.0}
    matches = [
        {**row, "row": 1, "matched_terms": ["robert"]},
        {**row, "row": 2, "matched_terms": ["robert", "kneschke"]},
    ]
    answer = {"query": {"kind": "text", "value": "Robert Kneschke"}, "total": 2}
    (run,) = runs_from_json({**answer, "matches": matches})
    assert [m.row for m in run.matches] == [2]
    assert run.totals == {"Robert Kneschke": 1}
