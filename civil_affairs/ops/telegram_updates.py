"""The bot's ledger of Telegram updates (table ``telegram_update``): each handled once, none left silent.

Telegram delivers an update again when the bot did not confirm it (polling) or did not answer the
webhook call; the bot confirms only after recording the update here. An update is then claimed by
one bot process, handled, and marked answered. Rows are keyed by (bot id, update id) and owned by
``<instance>/<boot>``: the instance is the process name the launcher gives (one bot process per
instance), the boot is new at every start, so a restarted bot knows which unfinished rows its
previous run left behind. Unfinished rows of another instance are taken over only when stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from civil_affairs.models import TelegramUpdate
from civil_affairs.models.base import utcnow

UNFINISHED = ("received", "processing")
FINISHED = ("answered", "resend_asked", "replayed")


def owner_name(instance: str, boot: str) -> str:
    """The owner column of rows recorded by one run of one bot instance."""
    return f"{instance}/{boot}"


def _instance(owner: str) -> str:
    return owner.rsplit("/", 1)[0]


@dataclass(frozen=True)
class Received:
    """What recording an incoming update found: a new update, a duplicate, or one taken over."""

    queue: bool  # hand it to the handlers
    outcome: str  # new, duplicate, taken_over
    previous_state: str | None = None


def record_received(bot_id: int, update_id: int, chat_id: int | None, owner: str, *, session: Session) -> Received:
    """Record an incoming update before Telegram is told it arrived; say whether to handle it."""
    row = session.get(TelegramUpdate, (bot_id, update_id))
    if row is None:
        try:
            with session.begin_nested():
                session.add(
                    TelegramUpdate(bot_id=bot_id, update_id=update_id, chat_id=chat_id, state="received", owner=owner)
                )
            return Received(True, "new")
        except IntegrityError:  # another process recorded it a moment ago
            row = session.get(TelegramUpdate, (bot_id, update_id), populate_existing=True)
            if row is None:
                raise
    if row.state in FINISHED or row.owner == owner or _instance(row.owner) != _instance(owner):
        return Received(False, "duplicate", row.state)
    # Our own instance's previous run recorded it and died before finishing: this run takes it over.
    taken = (
        session.execute(
            update(TelegramUpdate)
            .where(
                TelegramUpdate.bot_id == bot_id,
                TelegramUpdate.update_id == update_id,
                TelegramUpdate.owner == row.owner,
                TelegramUpdate.state == row.state,
            )
            .values(owner=owner, state="received")
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    return Received(taken, "taken_over" if taken else "duplicate", row.state)


def claim(bot_id: int, update_id: int, owner: str, *, session: Session) -> bool:
    """Start handling a recorded update; False when someone else already did."""
    return (
        session.execute(
            update(TelegramUpdate)
            .where(
                TelegramUpdate.bot_id == bot_id,
                TelegramUpdate.update_id == update_id,
                TelegramUpdate.owner == owner,
                TelegramUpdate.state == "received",
            )
            .values(state="processing", claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def finish(bot_id: int, update_id: int, owner: str, state: str = "answered", *, session: Session) -> None:
    """Mark an update this owner handled as answered (or replayed / resend asked)."""
    if state not in FINISHED:
        raise ValueError(f"not a finished state: {state}")
    session.execute(
        update(TelegramUpdate)
        .where(TelegramUpdate.bot_id == bot_id, TelegramUpdate.update_id == update_id, TelegramUpdate.owner == owner)
        .values(state=state, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )


def orphans(
    bot_id: int, owner: str, *, stale_before: datetime, session: Session, limit: int = 100
) -> list[TelegramUpdate]:
    """Unfinished updates left by a previous run of this instance, or by anyone long ago."""
    instance = _instance(owner)
    return list(
        session.scalars(
            select(TelegramUpdate)
            .where(
                TelegramUpdate.bot_id == bot_id,
                TelegramUpdate.state.in_(UNFINISHED),
                TelegramUpdate.owner != owner,
                or_(
                    TelegramUpdate.owner.like(instance.replace("%", r"\%").replace("_", r"\_") + "/%", escape="\\"),
                    TelegramUpdate.received_at < stale_before,
                ),
            )
            .order_by(TelegramUpdate.received_at)
            .limit(limit)
        )
    )


def take_orphan(row: TelegramUpdate, owner: str, *, session: Session) -> bool:
    """Take an orphaned update for recovery; False when another process took it first."""
    return (
        session.execute(
            update(TelegramUpdate)
            .where(
                TelegramUpdate.bot_id == row.bot_id,
                TelegramUpdate.update_id == row.update_id,
                TelegramUpdate.owner == row.owner,
                TelegramUpdate.state == row.state,
            )
            .values(owner=owner, claimed_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )


def purge_finished(before: datetime, *, session: Session, batch: int = 2000) -> int:
    """Forget up to ``batch`` finished updates received before ``before`` (retention); returns how many."""
    old = (
        select(TelegramUpdate.update_id)
        .where(TelegramUpdate.state.in_(FINISHED), TelegramUpdate.received_at < before)
        .limit(batch)
        .scalar_subquery()
    )
    return session.execute(
        delete(TelegramUpdate)
        .where(
            TelegramUpdate.state.in_(FINISHED), TelegramUpdate.received_at < before, TelegramUpdate.update_id.in_(old)
        )
        .execution_options(synchronize_session=False)
    ).rowcount
