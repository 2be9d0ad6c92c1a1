"""Progress reminders (进度提醒): subscriptions of residents' chats and the notices sent on a change.

A chat subscribes after a successful lookup; staff status changes (console, API or CSV import) call
``notify_subscribers`` after their transaction has committed, which sends each subscribed chat one
message through ``Delivery.to_resident`` (recorded in the transcript, then Telegram or web chat).
Functions with a ``session`` take it keyword-only and never commit.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from civil_affairs.applications.lookup import StatusView, describe
from civil_affairs.applications.records import get_by_number
from civil_affairs.conversations import texts
from civil_affairs.models import Application, StatusSubscription

if TYPE_CHECKING:
    from civil_affairs.conversations.delivery import Delivery

logger = logging.getLogger(__name__)


def subscribe(application: Application, sender_id: str, *, session: Session) -> bool:
    """Subscribe a chat to an application; False when it already was."""
    exists = session.scalars(
        select(StatusSubscription.id).where(
            StatusSubscription.application_id == application.id, StatusSubscription.sender_id == sender_id
        )
    ).first()
    if exists is not None:
        return False
    session.add(StatusSubscription(application_id=application.id, sender_id=sender_id))
    session.flush()
    return True


def unsubscribe(sender_id: str, *, session: Session, number: str | None = None) -> int:
    """End a chat's subscriptions (to one application, or to all); returns how many ended."""
    stmt = delete(StatusSubscription).where(StatusSubscription.sender_id == sender_id)
    if number:
        application = get_by_number(number, session=session)
        if application is None:
            return 0
        stmt = stmt.where(StatusSubscription.application_id == application.id)
    return session.execute(stmt.execution_options(synchronize_session=False)).rowcount or 0


def subscribers(application_id: int, *, session: Session) -> list[str]:
    """Sender ids subscribed to an application."""
    return list(
        session.scalars(
            select(StatusSubscription.sender_id)
            .where(StatusSubscription.application_id == application_id)
            .order_by(StatusSubscription.id)
        )
    )


def notice_text(view: StatusView) -> str:
    """The message a subscriber gets when the status changes."""
    lines = [
        texts.PROGRESS_NOTICE_HEADING.format(number=view.number, type_name=view.type_name),
        texts.PROGRESS_NOTICE_STAGE.format(stage=view.stage, stage_date=view.stage_date),
    ]
    if view.meaning:
        lines.append(view.meaning)
    if view.note:
        lines.append(texts.PROGRESS_NOTICE_NOTE.format(note=view.note))
    lines.append(texts.PROGRESS_NOTICE_NEXT_STEP.format(next_step=view.next_step))
    return "\n".join(lines)


def unsubscribe_button(number: str) -> dict[str, str]:
    """The button under a notice (its payload fits Telegram's 64-byte callback data)."""
    return {
        "title": texts.PROGRESS_UNSUBSCRIBE_TITLE,
        "payload": f'/unsubscribe_status{{"application_number":"{number}"}}',
    }


async def notify_subscribers(number: str, *, sessions: sessionmaker, delivery: Delivery) -> int:
    """Tell every subscriber of ``number`` its current status; returns how many were sent."""
    with sessions.begin() as session:
        application = get_by_number(number, session=session)
        if application is None:
            return 0
        targets = subscribers(application.id, session=session)
        text = notice_text(describe(application, session=session)) if targets else ""
    sent = 0
    for sender_id in targets:
        try:
            if await delivery.to_resident(sender_id, text, buttons=[unsubscribe_button(number)]):
                sent += 1
        except Exception:  # one broken chat must not stop the others
            logger.exception("status notice to a subscriber of %s failed", number)
    logger.info("status notice for %s sent to %d of %d subscribers", number, sent, len(targets))
    return sent
