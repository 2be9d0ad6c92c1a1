"""Stage texts (办理环节说明): what each status means and what the resident should do next.

The texts are data, kept per application type and status in the ``application_stage_text`` table
and seeded from ``seed/application_stages.yml`` (``default`` for every type, ``types`` overriding
single stages). Actions and notices read them from the table, so staff can change a text without a
release. Functions take a keyword-only ``session`` and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs.applications.types import APPLICATION_TYPES, STATUSES, TYPES_BY_CODE
from civil_affairs.config import PROJECT_ROOT
from civil_affairs.models import ApplicationStageText

STAGE_SEED = PROJECT_ROOT / "seed" / "application_stages.yml"
FALLBACK_NEXT_STEP = "如需了解详情，请向受理申请的乡镇（街道）窗口询问。"


@dataclass(frozen=True)
class StageText:
    """The resident-facing explanation of one stage."""

    meaning: str
    next_step: str


def read_stage_seed(path: Path = STAGE_SEED) -> list[dict[str, str]]:
    """Rows (type_code, status, meaning, next_step) for every type and status, from the seed file.

    Raises:
        ValueError: a stage without text, or an unknown type or status in the file.
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    default = data.get("default") or {}
    overrides = data.get("types") or {}
    known_statuses = {code for code, _ in STATUSES}
    unknown = (
        [f"type {t}" for t in overrides if t not in TYPES_BY_CODE]
        + [f"status {s}" for s in default if s not in known_statuses]
        + [f"status {t}.{s}" for t, stages in overrides.items() for s in (stages or {}) if s not in known_statuses]
    )
    if unknown:
        raise ValueError(f"{path}: unknown {', '.join(unknown)}")
    rows: list[dict[str, str]] = []
    for app_type in APPLICATION_TYPES:
        for status, _label in STATUSES:
            text = {**(default.get(status) or {}), **((overrides.get(app_type.code) or {}).get(status) or {})}
            if not text.get("meaning") or not text.get("next_step"):
                raise ValueError(f"{path}: no text for {app_type.code}/{status}")
            rows.append(
                {
                    "type_code": app_type.code,
                    "status": status,
                    "meaning": str(text["meaning"]).strip(),
                    "next_step": str(text["next_step"]).strip(),
                }
            )
    return rows


def load_stage_seed(*, session: Session, path: Path = STAGE_SEED) -> int:
    """Add the seed texts that are missing (texts staff changed are left alone); returns how many."""
    existing = set(session.execute(select(ApplicationStageText.type_code, ApplicationStageText.status)).all())
    added = 0
    for row in read_stage_seed(path):
        if (row["type_code"], row["status"]) not in existing:
            session.add(ApplicationStageText(**row))
            added += 1
    session.flush()
    return added


def stage_text(type_code: str, status: str, *, session: Session) -> StageText:
    """The explanation of ``status`` for ``type_code``; a neutral text if the table lacks it."""
    row = session.scalars(
        select(ApplicationStageText).where(
            ApplicationStageText.type_code == type_code, ApplicationStageText.status == status
        )
    ).one_or_none()
    if row is None:
        return StageText("", FALLBACK_NEXT_STEP)
    return StageText(row.meaning, row.next_step)


def set_stage_text(
    type_code: str, status: str, meaning: str, next_step: str, *, session: Session
) -> ApplicationStageText:
    """Create or change one text (for staff tools)."""
    row = session.scalars(
        select(ApplicationStageText).where(
            ApplicationStageText.type_code == type_code, ApplicationStageText.status == status
        )
    ).one_or_none()
    if row is None:
        row = ApplicationStageText(type_code=type_code, status=status, meaning=meaning, next_step=next_step)
        session.add(row)
    else:
        row.meaning, row.next_step = meaning, next_step
    session.flush()
    return row
