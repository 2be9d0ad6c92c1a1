"""The retention job purges old transcripts and conversation events, and keeps the current ones."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from civil_affairs.config import Settings
from civil_affairs.conversations.transcripts import record_message
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import ConversationMessage, TelegramUpdate, TrackerEvent
from civil_affairs.ops.retention import run_retention
from scripts import purge_old_data

NOW = datetime(2026, 12, 1, 12, 0)


def epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()


def event(sender: str, kind: str, moment: datetime) -> TrackerEvent:
    return TrackerEvent(
        sender_id=sender,
        type_name=kind,
        timestamp=epoch(moment),
        data=json.dumps({"event": kind, "timestamp": epoch(moment)}),
    )


def test_old_transcripts_and_ended_sessions_go_the_current_session_stays(migrated_settings: Settings) -> None:
    engine = make_engine(migrated_settings.database_url)
    sessions = make_session_factory(engine)
    old, recent = NOW - timedelta(days=200), NOW - timedelta(days=3)
    try:
        with sessions.begin() as session:
            record_message("web-old", "resident", "低保怎么申请", session=session).at = old
            record_message("web-new", "resident", "特困怎么申请", session=session).at = recent
            session.add_all(
                [
                    # an active conversation whose first session ended long ago
                    event("tg-1", "session_started", old),
                    event("tg-1", "user", old),
                    event("tg-1", "session_started", recent),
                    event("tg-1", "user", recent),
                    # a conversation idle for longer than the retention
                    event("tg-2", "session_started", old),
                    event("tg-2", "user", old + timedelta(minutes=1)),
                    TelegramUpdate(bot_id=1, update_id=1, state="answered", received_at=NOW - timedelta(days=8)),
                    TelegramUpdate(bot_id=1, update_id=2, state="answered", received_at=NOW - timedelta(days=1)),
                ]
            )
        report = run_retention(sessions, 180, now=NOW, batch=1)  # batches of one: the loop is exercised
        with sessions() as session:
            lines = list(session.scalars(select(ConversationMessage.text)))
            kept = sorted((e.sender_id, e.type_name, e.timestamp) for e in session.scalars(select(TrackerEvent)))
            updates = list(session.scalars(select(TelegramUpdate.update_id)))
        assert lines == ["特困怎么申请"]
        assert kept == [("tg-1", "session_started", epoch(recent)), ("tg-1", "user", epoch(recent))]
        assert updates == [2]
        assert (report.transcript_lines, report.tracker_events, report.telegram_updates) == (1, 4, 1)
        assert run_retention(sessions, 180, now=NOW).total() == 0  # running again (or elsewhere) is harmless
    finally:
        engine.dispose()


def test_the_script_purges_with_the_configured_days(
    migrated_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", migrated_settings.database_url)
    monkeypatch.setenv("DATA_DIR", str(migrated_settings.data_dir))
    engine = make_engine(migrated_settings.database_url)
    sessions = make_session_factory(engine)
    try:
        with sessions.begin() as session:
            line = record_message("web-x", "resident", "你好", session=session)
            line.at = datetime.utcnow() - timedelta(days=40)
        assert purge_old_data.main(["--days", "30"]) == 0
        assert "removed 1 transcript lines" in capsys.readouterr().out
        with sessions() as session:
            assert session.scalar(select(func.count(ConversationMessage.id))) == 0
    finally:
        engine.dispose()
