"""Transcript lines (civil_affairs/conversations/transcripts.py): one line or several at once, masked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs.conversations.transcripts import record_lines, record_message, stored_line, transcript
from civil_affairs.models import Conversation
from civil_affairs.models.base import utcnow

ID_NUMBER = "110105194912310021"


def test_several_lines_are_stored_in_order_masked_and_the_conversation_is_touched(session: Session) -> None:
    first = record_message("web-lines", "resident", "你好", session=session)
    conversation = session.get(Conversation, first.conversation_id)
    conversation.last_message_at = utcnow() - timedelta(days=1)
    session.flush()
    lines = [
        stored_line("bot", f"您的身份证号{ID_NUMBER}已登记\x00", [{"title": f"是{ID_NUMBER}", "payload": "/affirm"}]),
        stored_line("bot", "电话 13912345678 请核对"),
    ]
    assert record_lines("web-lines", lines, session=session) == first.conversation_id
    stored = transcript(first.conversation_id, session=session)
    assert [m.author for m in stored] == ["resident", "bot", "bot"]
    assert ID_NUMBER not in stored[1].text and "\x00" not in stored[1].text and "已登记" in stored[1].text
    assert stored[1].buttons[0]["payload"] == "/affirm" and ID_NUMBER not in stored[1].buttons[0]["title"]
    assert "13912345678" not in stored[2].text and stored[2].buttons is None
    session.expire_all()
    assert session.get(Conversation, first.conversation_id).last_message_at > utcnow() - timedelta(minutes=1)


def test_the_first_line_opens_the_conversation(session: Session) -> None:
    conversation_id = record_lines("tg-4242", [stored_line("resident", "低保怎么申请")], session=session)
    conversation = session.scalars(select(Conversation).where(Conversation.sender_id == "tg-4242")).one()
    assert conversation.id == conversation_id and conversation.channel == "telegram"
    assert [m.text for m in transcript(conversation_id, session=session)] == ["低保怎么申请"]
