"""Staff accounts: passwords, lockout, sessions and the bootstrap admin (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs import staff_accounts
from civil_affairs.models import StaffSession, StaffUser
from civil_affairs.staff_accounts import (
    LOCKOUT_MINUTES,
    MAX_FAILED_LOGINS,
    SESSION_IDLE_MINUTES,
    StaffAccountError,
    authenticate,
    create_session,
    create_user,
    ensure_bootstrap_admin,
    revoke_session,
    revoke_user_sessions,
    token_digest,
    validate_session,
)

PASSWORD = "correct-horse-battery"
T0 = datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture(autouse=True)
def fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap argon2 parameters, so the many checks below run quickly."""
    monkeypatch.setattr(staff_accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    staff_accounts._dummy_hash.cache_clear()


@pytest.fixture
def user(session: Session) -> StaffUser:
    return create_user("clerk", PASSWORD, session=session, display_name="王科员")


def test_the_password_is_kept_only_as_an_argon2id_hash(user: StaffUser) -> None:
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash
    assert user.role == "agent" and user.active


def test_the_default_hasher_uses_the_library_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()
    assert "m=65536,t=3,p=4" in staff_accounts.hash_password(PASSWORD)


@pytest.mark.parametrize(
    ("username", "password", "role", "message"),
    [
        ("a", PASSWORD, "agent", "用户名"),
        ("张三", PASSWORD, "agent", "用户名"),
        ("clerk2", "short", "agent", "密码至少"),
        ("clerk2", PASSWORD, "root", "角色"),
    ],
)
def test_create_user_refuses_bad_input(session: Session, username: str, password: str, role: str, message: str) -> None:
    with pytest.raises(StaffAccountError, match=message):
        create_user(username, password, session=session, role=role)


def test_create_user_refuses_a_taken_name(session: Session, user: StaffUser) -> None:
    with pytest.raises(StaffAccountError, match="已存在"):
        create_user("clerk", PASSWORD, session=session)


def test_authenticate_accepts_the_right_password_only(session: Session, user: StaffUser) -> None:
    ok = authenticate("clerk", PASSWORD, session=session, now=T0)
    assert ok.status == "ok" and ok.user is user and user.last_login_at == T0
    assert authenticate("clerk", PASSWORD.upper(), session=session, now=T0).status == "invalid"
    assert authenticate("nobody", PASSWORD, session=session, now=T0).status == "invalid"


def test_an_unknown_name_costs_one_hash_check_like_a_known_one(
    session: Session, user: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real_verify = staff_accounts._verify
    monkeypatch.setattr(
        staff_accounts, "_verify", lambda hashed, password: checked.append(hashed) or real_verify(hashed, password)
    )
    authenticate("nobody", "wrong-password", session=session)
    authenticate("clerk", "wrong-password", session=session)
    assert len(checked) == 2 and checked[0] != user.password_hash
    assert checked[0].startswith("$argon2id$")


def test_an_inactive_account_cannot_log_in(session: Session, user: StaffUser) -> None:
    user.active = False
    assert authenticate("clerk", PASSWORD, session=session).status == "invalid"


def test_five_failures_lock_for_fifteen_minutes(session: Session, user: StaffUser) -> None:
    statuses = [
        authenticate("clerk", "wrong-password", session=session, now=T0).status for _ in range(MAX_FAILED_LOGINS)
    ]
    assert statuses == ["invalid"] * (MAX_FAILED_LOGINS - 1) + ["locked"]
    assert staff_accounts.locked_until("clerk", session=session, now=T0) == T0 + timedelta(minutes=LOCKOUT_MINUTES)
    almost = T0 + timedelta(minutes=LOCKOUT_MINUTES, seconds=-1)
    assert authenticate("clerk", PASSWORD, session=session, now=almost).status == "locked"
    later = T0 + timedelta(minutes=LOCKOUT_MINUTES)
    assert authenticate("clerk", PASSWORD, session=session, now=later).status == "ok"
    assert staff_accounts.locked_until("clerk", session=session, now=later) is None


def test_a_success_is_not_counted_as_a_failure(session: Session, user: StaffUser) -> None:
    for _ in range(MAX_FAILED_LOGINS - 1):
        authenticate("clerk", "wrong-password", session=session, now=T0)
    assert authenticate("clerk", PASSWORD, session=session, now=T0).status == "ok"
    # The fifth failure in the window still locks: a success does not wipe a guesser's failures.
    assert authenticate("clerk", "wrong-password", session=session, now=T0).status == "locked"


def test_after_a_lock_the_next_window_allows_five_tries_again(session: Session, user: StaffUser) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        authenticate("clerk", "wrong-password", session=session, now=T0)
    later = T0 + timedelta(minutes=LOCKOUT_MINUTES + 1)
    assert authenticate("clerk", "wrong-password", session=session, now=later).status == "invalid"


# --- issue 9 item 6: names, addresses, cost, atomic counting, admin unlock ---------------------------


def test_unknown_and_known_names_lock_alike(session: Session, user: StaffUser) -> None:
    """Before the fix only existing accounts locked, so a 429 told which usernames exist."""
    known = [
        authenticate("clerk", "wrong-password", session=session, now=T0).status for _ in range(MAX_FAILED_LOGINS + 1)
    ]
    unknown = [
        authenticate("ghost", "wrong-password", session=session, now=T0).status for _ in range(MAX_FAILED_LOGINS + 1)
    ]
    assert known == unknown == ["invalid"] * (MAX_FAILED_LOGINS - 1) + ["locked", "locked"]


def test_a_throttled_attempt_costs_no_password_hashing(
    session: Session, user: StaffUser, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every attempt used to run argon2 (64 MiB) even while the account was locked."""
    for _ in range(MAX_FAILED_LOGINS):
        authenticate("clerk", "wrong-password", session=session, now=T0)
    checked: list[str] = []
    monkeypatch.setattr(staff_accounts, "_verify", lambda hashed, password: checked.append(hashed) or False)
    for name in ("clerk", "CLERK ", "clerk"):
        assert authenticate(name, PASSWORD, session=session, now=T0).status == "locked"
    assert checked == []


def test_one_address_is_throttled_across_many_names(session: Session, user: StaffUser) -> None:
    """Before the fix nothing limited one machine trying a few passwords on every name."""
    limit = staff_accounts.MAX_FAILED_LOGINS_PER_ADDRESS
    statuses = [
        authenticate(f"name{i}", "wrong-password", session=session, address="203.0.113.9", now=T0).status
        for i in range(limit)
    ]
    assert "locked" not in statuses[:-1]
    assert authenticate("clerk", PASSWORD, session=session, address="203.0.113.9", now=T0).status == "locked"
    # Another address is not affected, and neither is the account itself.
    assert authenticate("clerk", PASSWORD, session=session, address="198.51.100.7", now=T0).status == "ok"


def test_an_admin_unlocks_a_name(session: Session, user: StaffUser) -> None:
    for _ in range(MAX_FAILED_LOGINS):
        authenticate("clerk", "wrong-password", session=session, now=T0)
    assert authenticate("clerk", PASSWORD, session=session, now=T0).status == "locked"
    assert staff_accounts.unlock("clerk", session=session) is True
    assert authenticate("clerk", PASSWORD, session=session, now=T0).status == "ok"
    assert staff_accounts.unlock("never-tried", session=session) is False


def test_parallel_attempts_are_counted_atomically(engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty simultaneous wrong passwords, each in its own committed transaction: only five are checked.

    The old counter read ``failed_logins`` and wrote it back, and checked the password before looking
    at the lock, so a burst got every guess checked.
    """
    import threading
    import uuid

    from sqlalchemy import delete
    from sqlalchemy.orm import sessionmaker

    from civil_affairs.models import RateLimitCounter

    factory = sessionmaker(bind=engine, future=True, expire_on_commit=False)
    name = f"race-{uuid.uuid4().hex[:8]}"
    with factory.begin() as s:
        create_user(name, PASSWORD, session=s)
    checked: list[int] = []
    real_verify = staff_accounts._verify
    lock = threading.Lock()

    def counting_verify(hashed: str, password: str) -> bool:
        with lock:
            checked.append(1)
        return real_verify(hashed, password)

    monkeypatch.setattr(staff_accounts, "_verify", counting_verify)
    barrier = threading.Barrier(20)
    statuses: list[str] = []

    def attempt() -> None:
        barrier.wait()
        for _ in range(20):  # SQLite may refuse a writer while another holds the lock; retry
            try:
                with factory.begin() as s:
                    result = authenticate(name, "wrong-password", session=s)
                statuses.append(result.status)
                return
            except Exception as exc:  # noqa: BLE001
                if "locked" not in str(exc):
                    raise

    threads = [threading.Thread(target=attempt) for _ in range(20)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert len(statuses) == 20
        assert len(checked) == MAX_FAILED_LOGINS
        assert statuses.count("invalid") == MAX_FAILED_LOGINS - 1
        assert statuses.count("locked") == 20 - (MAX_FAILED_LOGINS - 1)
    finally:
        with factory.begin() as s:
            s.execute(delete(StaffUser).where(StaffUser.username == name))
            s.execute(delete(RateLimitCounter))


def test_a_session_token_is_stored_only_hashed(session: Session, user: StaffUser) -> None:
    token, row = create_session(user, session=session, now=T0)
    assert row.id == token_digest(token) and token not in row.id
    assert row.expires_at == T0 + timedelta(minutes=SESSION_IDLE_MINUTES)
    assert len(row.csrf_token) >= 32


def test_using_a_session_restarts_its_idle_timer(session: Session, user: StaffUser) -> None:
    token, _row = create_session(user, session=session, now=T0)
    later = T0 + timedelta(hours=7)
    row = validate_session(token, session=session, now=later)
    assert row is not None and row.last_seen_at == later
    assert row.expires_at == later + timedelta(minutes=SESSION_IDLE_MINUTES)
    assert validate_session(token, session=session, now=later + timedelta(hours=7)) is not None


def test_an_idle_session_expires_and_is_deleted(session: Session, user: StaffUser) -> None:
    token, _row = create_session(user, session=session, now=T0, idle_minutes=30)
    assert validate_session(token, session=session, now=T0 + timedelta(minutes=29), idle_minutes=30) is not None
    assert validate_session(token, session=session, now=T0 + timedelta(minutes=60), idle_minutes=30) is None
    assert session.get(StaffSession, token_digest(token)) is None


def test_a_busy_session_still_ends_after_the_maximum_lifetime(session: Session, user: StaffUser) -> None:
    token, _row = create_session(user, session=session, now=T0)
    now = T0
    for _ in range(4):
        now += timedelta(hours=5)
        assert validate_session(token, session=session, now=now, max_hours=24) is not None
    assert validate_session(token, session=session, now=now + timedelta(hours=5), max_hours=24) is None


def test_unknown_revoked_and_deactivated_sessions_are_refused(session: Session, user: StaffUser) -> None:
    assert validate_session("", session=session) is None
    assert validate_session("made-up-token", session=session) is None
    token, _row = create_session(user, session=session)
    assert revoke_session(token, session=session) is True
    assert validate_session(token, session=session) is None
    assert revoke_session(token, session=session) is False

    token, _row = create_session(user, session=session)
    user.active = False
    assert validate_session(token, session=session) is None


def test_revoking_all_sessions_of_a_user(session: Session, user: StaffUser) -> None:
    tokens = [create_session(user, session=session)[0] for _ in range(3)]
    assert revoke_user_sessions(user.id, session=session) == 3
    assert all(validate_session(t, session=session) is None for t in tokens)


def test_the_bootstrap_admin_is_created_once(session: Session) -> None:
    admin, created = ensure_bootstrap_admin("chief", PASSWORD, session=session)
    assert created and admin.role == "admin"
    again, created_again = ensure_bootstrap_admin("chief", "another-password", session=session)
    assert again is admin and not created_again
    assert authenticate("chief", PASSWORD, session=session).status == "ok"
    assert session.scalars(select(StaffUser).where(StaffUser.username == "chief")).all() == [admin]


@pytest.mark.parametrize("name", ["ad\x00min", "x" * 10_000, "\u202eadmin", "admin\n"])
def test_names_no_account_can_have_are_answered_like_unknown_ones(session: Session, user: StaffUser, name: str) -> None:
    """Bad input: a NUL in the username made PostgreSQL raise (a 500 at the login)."""
    assert authenticate(name, PASSWORD, session=session, now=T0).status == "invalid"
