"""Spawning ai.txt: the shared vectors and what a missing file means."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from traindex.signals.aitxt import evaluate_ai_txt
from traindex.signals.base import Basis, Verdict
from traindex.signals.fetched import FetchResult


def _fetched(status: int, body: bytes = b"") -> FetchResult:
    return FetchResult(
        url="https://ex.com/ai.txt",
        final_url="https://ex.com/ai.txt",
        status=status,
        headers=(),
        body=body,
        truncated=False,
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_vector_file_is_complete(
    shared_data: Path, vector_file: Callable[[str], list[dict[str, Any]]]
) -> None:
    assert len(vector_file("ai_txt_vectors.json")) == 10


@pytest.mark.shared
@pytest.mark.vectors("ai_txt_vectors.json")
def test_ai_txt_vector(case: dict[str, Any], shared_data: Path) -> None:
    result = evaluate_ai_txt(
        _fetched(200, case["ai_txt"].encode()), (case["user_agent"],), case["url"]
    )
    expected = Verdict.ALLOWED if case["expected_allowed"] else Verdict.RESERVED
    assert result.verdict is expected
    assert result.signal == "ai.txt"


def test_missing_ai_txt_is_no_statement() -> None:
    result = evaluate_ai_txt(_fetched(404), ("GPTBot",), "https://ex.com/a.jpg")
    assert (result.verdict, result.basis) == (Verdict.UNKNOWN, Basis.ABSENT)


def test_ai_txt_server_error_is_unknown_error() -> None:
    result = evaluate_ai_txt(_fetched(500), ("GPTBot",), "https://ex.com/a.jpg")
    assert (result.verdict, result.basis) == (Verdict.UNKNOWN, Basis.ERROR)
