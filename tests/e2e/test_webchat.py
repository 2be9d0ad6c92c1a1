"""The resident web chat in the console talks to the same Rasa conversation logic as Telegram."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import Stack

pytestmark = pytest.mark.model


def console_url(stack: Stack) -> str:
    return f"http://127.0.0.1:{stack.settings.console_port}"


def test_web_chat_page_is_served(stack: Stack) -> None:
    page = httpx.get(f"{console_url(stack)}/", follow_redirects=True, timeout=10)
    assert page.status_code == 200 and "在线咨询" in page.text and "/static/chat.js" in page.text


def test_web_chat_greets_and_answers_in_one_conversation(stack: Stack) -> None:
    with httpx.Client(base_url=console_url(stack), timeout=30) as browser:
        greeting = browser.post("/api/chat", json={"message": "你好"}).json()["messages"]
        assert "您好" in greeting[0]["text"] and greeting[0]["buttons"]
        cookie = browser.cookies.get("webchat_id")
        answer = browser.post("/api/chat", json={"message": "结婚登记要带什么"}).json()["messages"]
        assert "身份证" in answer[0]["text"]
        assert browser.cookies.get("webchat_id") == cookie  # same conversation across messages
        follow_up = browser.post("/api/chat", json={"message": "那离婚呢？"}).json()["messages"]
        assert "离婚" in follow_up[0]["text"]


def test_web_chat_refuses_empty_and_overlong_messages_politely(stack: Stack) -> None:
    with httpx.Client(base_url=console_url(stack), timeout=30) as browser:
        assert browser.post("/api/chat", json={"message": "   "}).json()["messages"][0]["text"] == "请先输入您的问题。"
        long = browser.post("/api/chat", json={"message": "字" * 2001}).json()["messages"][0]["text"]
        assert "太长" in long
        assert browser.post("/api/chat", json={}).json()["messages"][0]["text"] == "请先输入您的问题。"


def test_every_action_server_fitted_the_faq_ranker_before_it_was_ready(stack: Stack) -> None:
    """A first fit takes seconds, longer than the channels wait: the first resident after a start
    was answered "系统繁忙" when the launcher's entry module skipped the warm-up."""
    action_servers = [c.running for c in stack.supervisor.children if c.spec.role == "actions" and c.running]
    assert action_servers
    for running in action_servers:
        assert "faq ranker ready in" in running.log_path.read_text(encoding="utf-8", errors="replace")
