"""Stage texts: seeded per type and status from seed/application_stages.yml into the table."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civil_affairs.applications.stages import (
    FALLBACK_NEXT_STEP,
    load_stage_seed,
    read_stage_seed,
    set_stage_text,
    stage_text,
)
from civil_affairs.applications.types import APPLICATION_TYPES, STATUSES
from civil_affairs.models import ApplicationStageText


def test_seed_file_covers_every_type_and_status() -> None:
    rows = read_stage_seed()
    assert {(r["type_code"], r["status"]) for r in rows} == {
        (t.code, s) for t in APPLICATION_TYPES for s, _ in STATUSES
    }
    assert all(r["meaning"] and r["next_step"] for r in rows)


def test_migration_loaded_the_seed(session: Session) -> None:
    count = session.scalar(select(func.count()).select_from(ApplicationStageText))
    assert count == len(APPLICATION_TYPES) * len(STATUSES)
    assert load_stage_seed(session=session) == 0  # idempotent: nothing missing


def test_type_overrides_default_text(session: Session) -> None:
    low_income = stage_text("DB", "home_visit", session=session)
    elderly = stage_text("GL", "home_visit", session=session)
    default_review = stage_text("BZ", "review", session=session)
    assert "经济状况" in low_income.meaning and "年龄" in elderly.meaning
    assert default_review == stage_text("DB", "review", session=session)


def test_staff_edit_is_kept_by_a_later_seed_load(session: Session) -> None:
    set_stage_text("DB", "publicity", "新的说明", "新的下一步", session=session)
    assert load_stage_seed(session=session) == 0
    assert stage_text("DB", "publicity", session=session).next_step == "新的下一步"


def test_missing_text_falls_back_to_the_window(session: Session) -> None:
    assert stage_text("ZZ", "review", session=session).next_step == FALLBACK_NEXT_STEP
