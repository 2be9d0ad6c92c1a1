"""Staff applications API and pages: create, change status (subscribers told), import, audit."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from civil_affairs import audit
from civil_affairs.applications.notify import subscribe
from civil_affairs.applications.records import get_by_number
from civil_affairs.models import AuditLog, Conversation, ConversationMessage
from tests.console.conftest import csrf_headers, hidden_csrf
from tests.helpers.applications import fictitious_id

ID_NUMBER = fictitious_id(101)


def _create(client: TestClient, token: str, **overrides: str) -> str:
    body = {"type": "低保", "applicant_name": "测试用户一", "id_number": ID_NUMBER, "phone": "13800138000", **overrides}
    response = client.post("/api/staff/applications", json=body, headers=csrf_headers(token))
    assert response.status_code == 201, response.text
    return response.json()["number"]


def _audit(factory: sessionmaker, action: str) -> list[AuditLog]:
    with factory.begin() as session:
        rows = list(session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
        session.expunge_all()
    return rows


def test_create_needs_login_and_csrf(client: TestClient, make_staff) -> None:  # type: ignore[no-untyped-def]
    body = {"type": "DB", "applicant_name": "测试用户一", "id_number": ID_NUMBER}
    assert client.post("/api/staff/applications", json=body).status_code == 401
    make_staff("agent2")
    client.post("/api/staff/login", json={"username": "agent2", "password": "correct-horse-battery"})
    assert client.post("/api/staff/applications", json=body).status_code == 403
    assert client.post("/api/staff/applications", json=body, headers=csrf_headers("wrong")).status_code == 403


def test_create_by_name_or_code_returns_a_number_and_is_audited(
    client: TestClient, agent: str, factory: sessionmaker
) -> None:
    by_name = _create(client, agent)
    by_code = _create(client, agent, type="TK", applicant_name="测试用户二", id_number=fictitious_id(102))
    assert by_name.startswith("DB") and len(by_name) == 14 and by_code.startswith("TK")
    with factory.begin() as session:
        stored = get_by_number(by_name, session=session)
        assert stored.id_last6 == ID_NUMBER[-6:] and stored.phone_masked == "138****8000"
    records = _audit(factory, audit.APPLICATION_CREATE)
    assert [r.target_id for r in records] == [by_name, by_code]
    assert all(ID_NUMBER not in r.detail and "测试用户一" not in r.detail for r in records)


def test_create_refuses_bad_input_without_echoing_the_id(client: TestClient, agent: str) -> None:
    bad_id = ID_NUMBER[:-1] + ("0" if ID_NUMBER[-1] != "0" else "1")
    response = client.post(
        "/api/staff/applications",
        headers=csrf_headers(agent),
        json={"type": "低保", "applicant_name": "测试用户一", "id_number": bad_id},
    )
    assert response.status_code == 422 and bad_id not in response.text
    response = client.post(
        "/api/staff/applications",
        headers=csrf_headers(agent),
        json={"type": "养老金", "applicant_name": "测试用户一", "id_number": ID_NUMBER},
    )
    assert response.status_code == 422 and "未知的业务类型" in response.json()["detail"]


def test_status_change_notifies_subscribers_in_their_transcript(
    client: TestClient, agent: str, factory: sessionmaker
) -> None:
    number = _create(client, agent)
    with factory.begin() as session:
        subscribe(get_by_number(number, session=session), "web-subscriber1", session=session)
    response = client.post(
        f"/api/staff/applications/{number.lower()}/status",
        headers=csrf_headers(agent),
        json={"status": "需补充材料", "note": "请补交近6个月银行流水"},
    )
    assert response.status_code == 200, response.text
    assert response.json() == {
        "number": number,
        "status": "needs_documents",
        "status_label": "需补充材料",
        "subscribers": 1,
    }
    with factory.begin() as session:
        conversation = session.scalars(select(Conversation).where(Conversation.sender_id == "web-subscriber1")).one()
        [notice] = session.scalars(
            select(ConversationMessage).where(ConversationMessage.conversation_id == conversation.id)
        )
        assert number in notice.text and "需补充材料" in notice.text and "银行流水" in notice.text
        assert notice.buttons[0]["payload"].startswith("/unsubscribe_status")
    [record] = _audit(factory, audit.APPLICATION_STATUS)
    assert record.target_id == number and "受理 → 需补充材料" in record.detail


def test_status_change_checks_status_note_and_number(client: TestClient, agent: str) -> None:
    number = _create(client, agent)
    headers = csrf_headers(agent)
    assert (
        client.post(f"/api/staff/applications/{number}/status", headers=headers, json={"status": "未批准"}).status_code
        == 422
    )
    assert (
        client.post(f"/api/staff/applications/{number}/status", headers=headers, json={"status": "已归档"}).status_code
        == 422
    )
    assert (
        client.post(
            "/api/staff/applications/DB209901010001/status", headers=headers, json={"status": "审核"}
        ).status_code
        == 404
    )
    assert (
        client.post(f"/api/staff/applications/{number}/status", json={"status": "审核"}).status_code == 403
    )  # no CSRF header


def test_search_and_detail_are_audited_and_never_show_the_id(
    client: TestClient, agent: str, factory: sessionmaker
) -> None:
    number = _create(client, agent)
    found = client.get("/api/staff/applications", params={"q": ID_NUMBER}).json()["applications"]
    assert [a["number"] for a in found] == [number] and found[0]["applicant_name"] == "测***一"
    detail = client.get(f"/api/staff/applications/{number}").json()
    assert detail["history"][0]["status"] == "accepted" and ID_NUMBER not in str(detail)
    page = client.get(f"/staff/applications/{number}")
    assert page.status_code == 200 and ID_NUMBER not in page.text and "测试用户一" in page.text
    listing = client.get("/staff/applications", params={"q": "测试用户"})
    assert listing.status_code == 200 and number in listing.text.replace("-", "")
    searches = _audit(factory, audit.APPLICATION_SEARCH)
    assert len(searches) == 2 and all(ID_NUMBER not in r.detail for r in searches)
    assert len(_audit(factory, audit.APPLICATION_VIEW)) == 2


def test_pages_create_and_change_status(client: TestClient, agent: str, factory: sessionmaker) -> None:
    token = hidden_csrf(client.get("/staff/applications/new").text)
    response = client.post(
        "/staff/applications/new",
        follow_redirects=False,
        data={
            "csrf_token": token,
            "type": "GL",
            "applicant_name": "测试用户三",
            "id_number": fictitious_id(103),
            "office": "测试镇",
        },
    )
    assert response.status_code == 303
    number = response.headers["location"].split("/")[-1].split("?")[0]
    response = client.post(
        f"/staff/applications/{number}/status",
        follow_redirects=False,
        data={"csrf_token": token, "status": "home_visit", "note": ""},
    )
    assert response.status_code == 303 and "saved=1" in response.headers["location"]
    with factory.begin() as session:
        assert get_by_number(number, session=session).status == "home_visit"


def test_csv_import_page_reports_rejected_rows_and_imports_nothing(
    client: TestClient, agent: str, factory: sessionmaker
) -> None:
    token = hidden_csrf(client.get("/staff/applications/import").text)
    content = (
        "申请编号,业务类型,申请人姓名,身份证号\n"
        f"DB202610080021,低保,测试用户一,{fictitious_id(104)}\n"
        f"DB202610080022,外星补贴,测试用户二,{fictitious_id(105)}\n"
    ).encode("gbk")
    response = client.post(
        "/staff/applications/import", data={"csrf_token": token}, files={"file": ("导出.csv", content, "text/csv")}
    )
    assert response.status_code == 422 and "外星补贴" in response.text and "gbk" in response.text
    with factory.begin() as session:
        assert get_by_number("DB202610080021", session=session) is None
    good = content.decode("gbk").replace("外星补贴", "低保").encode("gbk")
    response = client.post(
        "/staff/applications/import", data={"csrf_token": token}, files={"file": ("导出.csv", good, "text/csv")}
    )
    assert response.status_code == 200 and "新增申请 2 件" in response.text
    assert [r.detail.split("：")[1][:3] for r in _audit(factory, audit.APPLICATION_IMPORT)] == ["1 行", "新增申"]
