"""Conversations live in the database: a booking form half filled in continues after Rasa is killed
(kill -9) and restarted by the supervisor, and the stored conversation holds no raw ID or phone number."""

from __future__ import annotations

import os
import signal
import uuid
from datetime import date

import pytest
from sqlalchemy import select

from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models import Appointment, TrackerEvent
from tests.e2e.conftest import Stack
from tests.helpers.booking_factory import make_id

pytestmark = pytest.mark.model

PHONE = "13979318866"


def first_payload(messages: list[dict]) -> str:
    return next(m for m in messages if m.get("buttons"))["buttons"][0]["payload"]


def test_a_booking_form_continues_after_rasa_is_killed_and_restarted(stack: Stack) -> None:
    sender = f"web-{uuid.uuid4().hex}"
    days = stack.say(sender, "我想预约结婚登记")
    assert "哪一天" in " ".join(m.get("text") or "" for m in days)
    slots = stack.say(sender, first_payload(days))
    asked = stack.say(sender, first_payload(slots))
    assert "男方的姓名" in " ".join(m.get("text") or "" for m in asked)
    assert "身份证" in stack.say_text(sender, "张伟")
    groom = make_id(date(1991, 5, 6), male=True, area="360102", serial=61)
    assert "女方的姓名" in stack.say_text(sender, groom)

    rasa = stack.rasa
    assert rasa is not None
    name, restarts = rasa.spec.name, stack.child(rasa.spec.name).restarts
    os.kill(rasa.popen.pid, signal.SIGKILL)
    stack.wait_serving(name, restarts=restarts + 1)

    # The restarted Rasa reads the conversation back from the database and asks the next question.
    assert "身份证" in stack.say_text(sender, "李婷")
    bride = make_id(date(1994, 9, 10), male=False, area="360102", serial=62)
    assert "电话" in stack.say_text(sender, bride)
    summary = stack.say_text(sender, PHONE)
    assert "请核对" in summary and "张伟" in summary and "139****8866" in summary
    assert "预约成功" in stack.say_text(sender, "/affirm")

    engine = make_engine(stack.settings.database_url)
    try:
        with make_session_factory(engine)() as session:
            [appointment] = session.scalars(select(Appointment).where(Appointment.sender_id == sender)).all()
            stored = " ".join(session.scalars(select(TrackerEvent.data).where(TrackerEvent.sender_id == sender)))
    finally:
        engine.dispose()
    assert appointment.phone == PHONE
    assert [p.id_last6 for p in appointment.parties] == [groom[-6:], bride[-6:]]
    for secret in (groom, bride, PHONE):
        assert secret not in stored
