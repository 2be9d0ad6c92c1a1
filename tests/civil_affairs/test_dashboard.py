"""Dashboard figures (civil_affairs/dashboard.py): containment, handoffs by reason, ratings, waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from civil_affairs.conversations.handoff import escalate
from civil_affairs.conversations.transcripts import record_message
from civil_affairs.dashboard import dashboard_stats, median, percentile
from civil_affairs.faq.store import record_unanswered
from civil_affairs.models.base import utcnow


@pytest.mark.parametrize(
    "values, fraction, expected",
    [
        ([], 0.9, None),
        ([7], 0.9, 7),
        ([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 0.9, 9),
        ([10, 1, 5], 0.5, 5),
        (list(range(1, 101)), 0.9, 90),
    ],
)
def test_percentile_is_nearest_rank(values: list[float], fraction: float, expected: float | None) -> None:
    assert percentile(values, fraction) == expected


def test_median_of_odd_even_and_empty() -> None:
    assert median([3, 1, 2]) == 2 and median([4, 1, 3, 2]) == 2.5 and median([]) is None


def test_figures_for_a_small_day(session: Session) -> None:
    since = utcnow() - timedelta(seconds=1)
    for n in range(6):  # six conversations, two of them handed to staff
        record_message(f"tg-{9100 + n}", "resident", "低保怎么申请", session=session)
    first, _ = escalate("tg-9100", "requested", session=session)
    second, _ = escalate("tg-9101", "emergency", session=session)
    first.first_response_at = first.created_at + timedelta(seconds=60)
    second.first_response_at = second.created_at + timedelta(seconds=300)
    first.status, first.rating = "resolved", 4
    second.status, second.rating = "resolved", 5
    record_unanswered("救助站在哪里", session=session)
    record_unanswered("救助站在哪里", session=session)
    session.flush()

    stats = dashboard_stats(session=session, since=since)
    assert (stats.conversations, stats.contained, stats.containment_rate) == (6, 4, round(4 / 6, 4))
    assert stats.handoffs == 2 and stats.handoffs_by_reason["requested"] == 1
    assert stats.handoffs_by_reason["emergency"] == 1 and stats.handoffs_by_reason["complaint"] == 0
    assert stats.ratings == {5: 1, 4: 1, 3: 0, 2: 0, 1: 0} and stats.rating_average == 4.5 and stats.rated == 2
    assert (stats.waiting.answered, stats.waiting.median_seconds, stats.waiting.p90_seconds) == (2, 180, 300)
    assert any(row.text == "救助站在哪里" and row.count == 2 for row in stats.top_unanswered)


def test_nothing_to_divide_gives_none(session: Session) -> None:
    stats = dashboard_stats(session=session, since=utcnow() + timedelta(days=1))
    assert stats.conversations == 0 and stats.containment_rate is None
    assert stats.rating_average is None and stats.waiting.median_seconds is None
