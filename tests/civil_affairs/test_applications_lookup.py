"""Residents' lookups: one answer for every kind of mismatch, and the pause after repeated failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from civil_affairs.applications import lookup
from civil_affairs.applications.lookup import (
    FAILURE_WINDOW,
    MAX_FAILURES,
    MAX_FAILURES_PER_ADDRESS,
    PROOF_VALID,
    describe,
    is_locked,
    lookup_status,
    proven_application,
)
from civil_affairs.applications.records import change_status
from civil_affairs.models.base import utcnow
from tests.helpers.applications import add_application, fictitious_id

KEY = "test-secret-key"


def test_right_pair_finds_the_application(session: Session) -> None:
    application = add_application(session, secret_key=KEY, name="张小三")
    last6 = fictitious_id(1)[-6:]
    result = lookup_status("tg-1", application.number.lower(), last6, session=session, secret_key=KEY)
    assert result.outcome == "found" and result.application is application
    view = describe(application, session=session)
    assert view.masked_name == "张*三" and view.type_name == "低保" and view.stage == "受理"
    assert view.next_step and view.meaning


def test_wrong_pair_unknown_and_malformed_numbers_fail_alike(session: Session) -> None:
    application = add_application(session, secret_key=KEY)
    right = fictitious_id(1)[-6:]
    wrong = "000000" if right != "000000" else "111111"
    outcomes = [
        lookup_status("tg-2", application.number, wrong, session=session, secret_key=KEY),
        lookup_status("tg-3", "DB209901010001", right, session=session, secret_key=KEY),
        lookup_status("tg-4", "不记得编号了", right, session=session, secret_key=KEY),
        lookup_status("tg-5", application.number, "不知道", session=session, secret_key=KEY),
    ]
    assert all(o.outcome == "failed" and o.application is None for o in outcomes)


def test_five_failures_pause_the_chat_even_with_the_right_pair(session: Session) -> None:
    application = add_application(session, secret_key=KEY)
    right = fictitious_id(1)[-6:]
    now = utcnow()
    for attempt in range(MAX_FAILURES):
        assert (
            lookup_status("tg-10", "DB209901010001", "123456", session=session, secret_key=KEY, now=now).outcome
            == "failed"
        ), attempt
    assert is_locked(session=session, sender_id="tg-10", now=now)
    assert (
        lookup_status("tg-10", application.number, right, session=session, secret_key=KEY, now=now).outcome == "locked"
    )
    # Another chat is not paused; the paused chat is free again once the failures leave the window.
    assert (
        lookup_status("tg-11", application.number, right, session=session, secret_key=KEY, now=now).outcome == "found"
    )
    later = now + FAILURE_WINDOW + timedelta(seconds=1)
    assert (
        lookup_status("tg-10", application.number, right, session=session, secret_key=KEY, now=later).outcome == "found"
    )


def test_strangers_guessing_a_number_do_not_lock_out_its_owner(session: Session) -> None:
    """Issue 9 item 7: the old per-number lock let anyone freeze lookups of (sequential) numbers."""
    application = add_application(session, secret_key=KEY)
    now = utcnow()
    for attempt in range(MAX_FAILURES * 2):
        assert (
            lookup_status(
                f"tg-2{attempt}", application.number, "999999", session=session, secret_key=KEY, now=now
            ).outcome
            == "failed"
        )
    assert (
        lookup_status(
            "tg-owner", application.number, fictitious_id(1)[-6:], session=session, secret_key=KEY, now=now
        ).outcome
        == "found"
    )


def test_failures_are_counted_for_unknown_numbers_too(session: Session) -> None:
    now = utcnow()
    for attempt in range(MAX_FAILURES):
        lookup_status("tg-x", f"LS20990101000{attempt + 1}", "123456", session=session, secret_key=KEY, now=now)
    assert (
        lookup_status("tg-x", "LS209901010009", "123456", session=session, secret_key=KEY, now=now).outcome == "locked"
    )


def test_a_new_cookie_does_not_reset_the_count_for_one_address(session: Session) -> None:
    """Issue 9 item 7: the chat limit was keyed on the web cookie, which the visitor chooses."""
    application = add_application(session, secret_key=KEY)
    now = utcnow()
    for attempt in range(MAX_FAILURES_PER_ADDRESS):
        # A fresh cookie (so a fresh chat) for every guess, from one address.
        assert (
            lookup_status(
                f"web-{attempt:032x}",
                application.number,
                "999999",
                session=session,
                secret_key=KEY,
                client_address="203.0.113.5",
                now=now,
            ).outcome
            == "failed"
        )
    right = fictitious_id(1)[-6:]
    assert (
        lookup_status(
            "web-" + "f" * 32,
            application.number,
            right,
            session=session,
            secret_key=KEY,
            client_address="203.0.113.5",
            now=now,
        ).outcome
        == "locked"
    )
    # Another address, and a Telegram chat, are not affected.
    assert (
        lookup_status(
            "web-" + "e" * 32,
            application.number,
            right,
            session=session,
            secret_key=KEY,
            client_address="198.51.100.1",
            now=now,
        ).outcome
        == "found"
    )
    assert (
        lookup_status("tg-77", application.number, right, session=session, secret_key=KEY, now=now).outcome == "found"
    )


def test_web_chats_without_an_address_share_one_allowance(session: Session) -> None:
    now = utcnow()
    for attempt in range(MAX_FAILURES_PER_ADDRESS):
        lookup_status(f"web-{attempt:032x}", "DB209901010001", "999999", session=session, secret_key=KEY, now=now)
    assert is_locked(session=session, sender_id="web-" + "a" * 32, now=now)
    assert not is_locked(session=session, sender_id="tg-5", now=now)


def test_a_global_limit_stops_guessing_spread_over_many_chats_and_addresses(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lookup, "MAX_FAILURES_GLOBAL", 8)
    application = add_application(session, secret_key=KEY)
    now = utcnow()
    outcomes = [
        lookup_status(
            f"tg-9{i}",
            application.number,
            "999999",
            session=session,
            secret_key=KEY,
            client_address=f"192.0.2.{i}",
            now=now,
        ).outcome
        for i in range(10)
    ]
    assert outcomes == ["failed"] * 8 + ["locked"] * 2
    later = now + FAILURE_WINDOW + timedelta(seconds=1)
    assert (
        lookup_status(
            "tg-999", application.number, fictitious_id(1)[-6:], session=session, secret_key=KEY, now=later
        ).outcome
        == "found"
    )


def test_a_successful_lookup_is_recorded_as_proof_for_a_day(session: Session) -> None:
    """Issue 9 item 2: the proof lives in the database, not in a tracker slot."""
    application = add_application(session, secret_key=KEY)
    other = add_application(session, secret_key=KEY, sequence=2)
    now = utcnow()
    assert proven_application("tg-1", None, session=session, now=now) is None
    lookup_status("tg-1", application.number, fictitious_id(1)[-6:], session=session, secret_key=KEY, now=now)
    lookup_status("tg-1", other.number, "999999", session=session, secret_key=KEY, now=now)
    assert proven_application("tg-1", None, session=session, now=now) is application
    assert proven_application("tg-1", application.number, session=session, now=now) is application
    assert proven_application("tg-1", other.number, session=session, now=now) is None
    assert proven_application("tg-2", application.number, session=session, now=now) is None
    assert proven_application("tg-1", None, session=session, now=now + PROOF_VALID + timedelta(seconds=1)) is None


def test_status_change_shows_note_and_next_step(session: Session) -> None:
    application = add_application(session, secret_key=KEY)
    change_status(application, "需补充材料", "请补交近6个月银行流水", session=session)
    view = describe(application, session=session)
    assert view.stage == "需补充材料" and view.note == "请补交近6个月银行流水"
    assert "所缺材料" in view.next_step


def test_unknown_and_wrong_pair_do_the_same_work(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """No timing side channel: an unknown number costs the same statements and hashes as a wrong pair.

    Counted, not timed (a stopwatch on a shared machine measures the neighbours).
    """
    application = add_application(session, secret_key=KEY)
    hashes: list[str] = []
    real_hash = lookup.keyed_hash
    monkeypatch.setattr(lookup, "keyed_hash", lambda value, key: hashes.append("h") or real_hash(value, key))
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement.split()[0].upper())

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        work = []
        for number, sender in ((application.number, "tg-wrong"), ("DB209901010001", "tg-unknown")):
            hashes.clear(), statements.clear()
            result = lookup_status(
                sender, number, "000001", session=session, secret_key=KEY, now=utcnow() - timedelta(days=1)
            )
            assert result.outcome == "failed"
            work.append((len(hashes), sorted(statements)))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert work[0] == work[1] and work[0][0] == 2
