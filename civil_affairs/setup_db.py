"""Bringing a database up to date: Alembic migrations, then idempotent seed data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy.orm import Session

from civil_affairs.booking import load_booking_seed as load_slots
from civil_affairs.booking.work_calendar import seed_calendar
from civil_affairs.config import PROJECT_ROOT
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.faq.store import ImportReport, import_records, read_yaml

SEED_DIR = PROJECT_ROOT / "seed"


def alembic_config(database_url: str) -> Config:
    """Alembic config pointing at ``database_url`` without touching the environment."""
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    config.attributes["database_url"] = database_url
    config.attributes["configure_logger"] = False
    return config


def upgrade_database(database_url: str) -> None:
    """Apply every migration not yet applied."""
    command.upgrade(alembic_config(database_url), "head")


def read_faq_seed(folder: Path = SEED_DIR / "faq") -> list[dict[str, Any]]:
    """The seed FAQ records of every ``<category>.yml`` in ``folder``, in file-name order."""
    records: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.yml")):
        records.extend(read_yaml(path.read_text(encoding="utf-8")))
    return records


def load_faq_seed(*, session: Session, folder: Path = SEED_DIR / "faq") -> ImportReport:
    """Add seed FAQ entries that are missing; entries staff have edited are left alone."""
    report = import_records(read_faq_seed(folder), session=session, create_only=True)
    if report.rejected:
        raise ValueError(f"seed folder {folder} has invalid entries: {report.rejected}")
    return report


def load_booking_seed(*, session: Session, path: Path = SEED_DIR / "booking.yml") -> int:
    """Add missing appointment slots/overrides and the published holiday years (idempotent)."""

    return load_slots(session=session, path=path) + len(seed_calendar(session=session))


def prepare_database(database_url: str) -> ImportReport:
    """Migrate ``database_url`` to the newest schema and add missing seed data; returns the FAQ report."""

    upgrade_database(database_url)
    engine = make_engine(database_url)
    try:
        with make_session_factory(engine).begin() as session:
            report = load_faq_seed(session=session)
            load_booking_seed(session=session)
    finally:
        engine.dispose()
    return report
