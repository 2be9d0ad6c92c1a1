"""The dashboard (数据看板) for supervisors and admins: a page with server-drawn bars, and its JSON.

The figures come from ``civil_affairs.dashboard``; the page draws them with CSS bars and inline
SVG rendered here, so there is no chart library and nothing loaded from another site.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from civil_affairs.conversations.handoff import REASON_LABELS
from civil_affairs.conversations.handoff_views import describe_wait, iso_utc
from civil_affairs.dashboard import DashboardStats, dashboard_stats
from civil_affairs.models.base import utcnow
from console.deps import StaffContext, render, require_role, sessions

router = APIRouter()

PERIODS = {"7": ("近7天", 7), "30": ("近30天", 30), "all": ("全部", None)}


def _since(period: str) -> tuple[str, Any]:
    """The period key (unknown keys mean 30 days) and its start time."""
    period = period if period in PERIODS else "30"
    days = PERIODS[period][1]
    return period, (utcnow() - timedelta(days=days)) if days else None


def _stats(request: Request, period: str) -> tuple[str, DashboardStats]:
    key, since = _since(period)
    with sessions(request).begin() as session:
        return key, dashboard_stats(session=session, since=since)


def stats_json(stats: DashboardStats, period: str) -> dict[str, Any]:
    """The figures as the JSON API returns them."""
    data = asdict(stats)
    data["since"] = iso_utc(stats.since)
    data["period"] = period
    data["handoff_rate"] = round(1 - stats.containment_rate, 4) if stats.containment_rate is not None else None
    data["handoffs_by_reason"] = [
        {"reason": reason, "label": REASON_LABELS.get(reason, reason), "count": n}
        for reason, n in stats.handoffs_by_reason.items()
    ]
    data["ratings"] = [{"score": score, "count": n} for score, n in stats.ratings.items()]
    data["rated"] = stats.rated
    return data


def _bars(counts: list[tuple[str, int]]) -> list[dict[str, Any]]:
    """Rows for a CSS bar chart: label, value, width in percent of the largest."""
    top = max((n for _, n in counts), default=0)
    return [{"label": label, "value": n, "width": round(100 * n / top) if top else 0} for label, n in counts]


def _donut(rate: float | None) -> dict[str, Any]:
    """Stroke lengths for an SVG ring showing a share (circumference of r=15.915 is 100)."""
    share = round(100 * rate, 1) if rate is not None else 0.0
    return {"share": share, "dash": f"{share} {100 - share}", "known": rate is not None}


@router.get("/staff/dashboard", include_in_schema=False)
def dashboard_page(
    request: Request, period: str = "30", staff: StaffContext = Depends(require_role("supervisor"))
) -> Response:
    """Figures of the chosen period with simple charts."""
    key, stats = _stats(request, period)
    waiting = stats.waiting
    return render(
        request,
        "staff/dashboard.html",
        {
            "nav": "dashboard",
            "stats": stats,
            "period": key,
            "periods": PERIODS,
            "donut": _donut(stats.containment_rate),
            "reason_bars": _bars([(REASON_LABELS.get(r, r), n) for r, n in stats.handoffs_by_reason.items()]),
            "rating_bars": _bars([(f"{score}分", n) for score, n in stats.ratings.items()]),
            "unanswered_bars": _bars([(row.text, row.count) for row in stats.top_unanswered]),
            "median_wait": describe_wait(waiting.median_seconds) if waiting.median_seconds is not None else "—",
            "p90_wait": describe_wait(waiting.p90_seconds) if waiting.p90_seconds is not None else "—",
        },
        staff=staff,
    )


@router.get("/api/staff/dashboard")
def api_dashboard(
    request: Request, period: str = "30", staff: StaffContext = Depends(require_role("supervisor"))
) -> dict[str, Any]:
    """The dashboard figures; ``period`` is 7, 30 (default) or all (days)."""
    key, stats = _stats(request, period)
    return stats_json(stats, key)
