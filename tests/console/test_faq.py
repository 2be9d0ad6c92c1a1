"""FAQ editor and unanswered questions on the console (console/faq.py), pages and JSON API."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy.orm import sessionmaker

from civil_affairs.audit import list_audit
from civil_affairs.config import Settings
from civil_affairs.faq.search import FaqSearcher
from civil_affairs.faq.store import export_csv, export_yaml, record_unanswered
from tests.console.conftest import csrf_headers, hidden_csrf

NEW_ENTRY = {
    "key": "pet-registration-test",
    "category": "other",
    "question": "火星移民登记证书怎么补办？",
    "answer": "请携带身份证到窗口补办。",
    "alternatives": ["火星证书丢了怎么办"],
    "keywords": ["火星", "补办"],
    "source": "测试依据",
    "locality": "local",
    "reviewed": "2026-02-01",
}


def _searcher(settings: Settings) -> FaqSearcher:
    return FaqSearcher()


def _found_keys(factory: sessionmaker, searcher: FaqSearcher, text: str) -> list[str]:
    with factory.begin() as session:
        return [c.key for c in searcher.search(session, text).candidates]


def _entries(client: TestClient, **params: str) -> list[dict[str, Any]]:
    return client.get("/api/staff/faq", params=params).json()["entries"]


def _actions(factory: sessionmaker) -> list[str]:
    with factory.begin() as session:
        return [r.action for r in list_audit(session=session)]


def test_api_create_edit_deactivate_reach_the_searcher_at_once(
    client: TestClient, agent: str, factory: sessionmaker, migrated_settings: Settings
) -> None:
    searcher = _searcher(migrated_settings)
    assert "pet-registration-test" not in _found_keys(factory, searcher, NEW_ENTRY["question"])

    created = client.post("/api/staff/faq", json=NEW_ENTRY, headers=csrf_headers(agent))
    assert created.status_code == 201 and created.json()["created"] is True
    assert _found_keys(factory, searcher, NEW_ENTRY["question"])[0] == "pet-registration-test"

    edited = client.post(
        "/api/staff/faq", headers=csrf_headers(agent), json={**NEW_ENTRY, "question": "月球基地通行证明如何开具？"}
    )
    assert edited.status_code == 200 and edited.json()["created"] is False
    assert _found_keys(factory, searcher, "月球基地通行证明如何开具")[0] == "pet-registration-test"

    gone = client.post("/api/staff/faq/pet-registration-test/deactivate", headers=csrf_headers(agent))
    assert gone.status_code == 200 and gone.json()["entry"]["active"] is False
    assert "pet-registration-test" not in _found_keys(factory, searcher, "月球基地通行证明如何开具")
    assert _actions(factory)[:3] == ["faq.deactivate", "faq.update", "faq.create"]


def test_api_refuses_an_invalid_entry_with_every_problem(client: TestClient, agent: str) -> None:
    response = client.post("/api/staff/faq", headers=csrf_headers(agent), json={"key": "broken", "category": "weather"})
    assert response.status_code == 422
    assert len(response.json()["detail"]) == 3  # question, answer, category
    assert _entries(client, q="broken") == []


def test_api_deactivating_an_unknown_key_is_404(client: TestClient, agent: str) -> None:
    assert client.post("/api/staff/faq/no-such-key/deactivate", headers=csrf_headers(agent)).status_code == 404


def test_api_list_filters_by_text_and_category(client: TestClient, agent: str) -> None:
    marriage = _entries(client, category="marriage")
    assert marriage and {e["category"] for e in marriage} == {"marriage"}
    found = _entries(client, q="低保")
    assert found and all("低保" in e["question"] + e["answer"] + e["key"] for e in found)


def test_the_pages_create_edit_deactivate_and_reactivate(
    client: TestClient, agent: str, factory: sessionmaker, migrated_settings: Settings
) -> None:
    searcher = _searcher(migrated_settings)
    form = {
        **NEW_ENTRY,
        "alternatives": "火星证书丢了怎么办\n火星证书补领",
        "keywords": "火星\n补办",
        "active": "1",
        "csrf_token": agent,
    }
    assert client.post("/staff/faq/new", data=form, follow_redirects=False).status_code == 303
    again = client.post("/staff/faq/new", data=form)
    assert again.status_code == 409 and "已存在" in again.text

    edit_page = client.get("/staff/faq/pet-registration-test/edit")
    assert edit_page.status_code == 200 and "火星证书补领" in edit_page.text
    changed = {**form, "answer": "新的答复内容。", "key": "ignored-in-edit"}
    assert client.post("/staff/faq/pet-registration-test/edit", data=changed, follow_redirects=False).status_code == 303
    entry = _entries(client, q="pet-registration-test")[0]
    assert entry["answer"] == "新的答复内容。"
    assert entry["alternatives"] == ["火星证书丢了怎么办", "火星证书补领"]
    assert entry["reviewed"] == "2026-02-01" and entry["locality"] == "local"
    assert _entries(client, q="ignored-in-edit") == []

    client.post("/staff/faq/pet-registration-test/deactivate", data={"csrf_token": agent})
    assert "pet-registration-test" not in _found_keys(factory, searcher, NEW_ENTRY["question"])
    listing = client.get("/staff/faq", params={"q": "pet-registration-test"})
    assert "已停用" in listing.text
    client.post("/staff/faq/pet-registration-test/activate", data={"csrf_token": agent})
    assert _found_keys(factory, searcher, NEW_ENTRY["question"])[0] == "pet-registration-test"


def test_an_unticked_box_saves_the_entry_inactive(client: TestClient, agent: str) -> None:
    form = {**NEW_ENTRY, "alternatives": "", "keywords": "", "csrf_token": agent}
    client.post("/staff/faq/new", data=form)
    assert _entries(client, q="pet-registration-test")[0]["active"] is False


def test_an_invalid_form_is_shown_again_with_the_problems(client: TestClient, agent: str) -> None:
    response = client.post("/staff/faq/new", data={"key": "half-done", "question": "只写了问题", "csrf_token": agent})
    assert response.status_code == 422
    assert "答复内容不能为空" in response.text and "只写了问题" in response.text
    assert _entries(client, q="half-done") == []


def test_list_search_and_category_filter(client: TestClient, agent: str) -> None:
    page = client.get("/staff/faq", params={"q": "婚姻", "category": "marriage"})
    assert page.status_code == 200
    assert "婚姻登记" in page.text and "殡葬服务</td>" not in page.text


def test_a_script_in_a_question_is_shown_escaped(client: TestClient, agent: str) -> None:
    client.post(
        "/api/staff/faq",
        headers=csrf_headers(agent),
        json={**NEW_ENTRY, "question": "<script>alert(1)</script>怎么办？"},
    )
    page = client.get("/staff/faq", params={"q": "pet-registration"})
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<script>alert(1)</script>" not in page.text
    edit = client.get("/staff/faq/pet-registration-test/edit")
    assert "<script>alert(1)</script>" not in edit.text


def _upload(client: TestClient, token: str, name: str, content: str) -> Any:
    return client.post(
        "/staff/faq/import",
        data={"csrf_token": token},
        files={"file": (name, content.encode("utf-8"), "application/octet-stream")},
    )


GOOD_YAML = yaml.safe_dump(
    [NEW_ENTRY, {**NEW_ENTRY, "key": "second-test", "question": "第二个测试问题？"}], allow_unicode=True
)
BAD_YAML = yaml.safe_dump([NEW_ENTRY, {**NEW_ENTRY, "key": "bad-test", "category": "weather"}], allow_unicode=True)
CSV_HEADER = "key,category,question,alternatives,keywords,answer,source,locality,reviewed,active\n"
GOOD_CSV = CSV_HEADER + "csv-test,other,CSV导入的问题？,说法一|说法二,关键词,答复。,,national,2026-01-01,1\n"
BAD_CSV = GOOD_CSV + "csv-bad,other,,,,答复。,,national,,1\n"


def test_import_yaml_creates_entries_and_shows_the_report(
    client: TestClient, agent: str, factory: sessionmaker
) -> None:
    response = _upload(client, agent, "faq.yaml", GOOD_YAML)
    assert response.status_code == 200 and "新增 2 条，更新 0 条" in response.text
    assert len(_entries(client, q="-test")) == 2
    assert _actions(factory)[0] == "faq.import"


def test_import_csv_creates_entries(client: TestClient, agent: str) -> None:
    response = _upload(client, agent, "faq.csv", "\ufeff" + GOOD_CSV)
    assert response.status_code == 200 and "新增 1 条" in response.text
    assert _entries(client, q="csv-test")[0]["alternatives"] == ["说法一", "说法二"]


@pytest.mark.parametrize(
    ("name", "content", "bad_row"),
    [
        ("faq.yml", BAD_YAML, "2"),
        ("faq.csv", BAD_CSV, "2"),
    ],
)
def test_a_bad_row_rejects_the_whole_file(
    client: TestClient, agent: str, factory: sessionmaker, name: str, content: str, bad_row: str
) -> None:
    with factory.begin() as session:
        before = export_yaml(session=session)
    response = _upload(client, agent, name, content)
    assert response.status_code == 422
    assert "整个文件未导入" in response.text and f"<td>{bad_row}</td>" in response.text
    with factory.begin() as session:
        assert export_yaml(session=session) == before
    with factory.begin() as session:
        assert "未导入" in list_audit(session=session, limit=1)[0].detail


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("faq.txt", "hello", "只支持"),
        ("faq.yaml", "key: [unclosed", "YAML 格式有误"),
        ("faq.yaml", "just text", "YAML 文件应是问答条目的列表"),
        ("faq.csv", "a,b\n1,2\n", "CSV 缺少列"),
    ],
)
def test_an_unreadable_file_is_explained(client: TestClient, agent: str, name: str, content: str, message: str) -> None:
    response = _upload(client, agent, name, content)
    assert response.status_code == 422 and message in response.text


def test_import_without_csrf_is_refused(client: TestClient, agent: str) -> None:
    response = client.post("/staff/faq/import", files={"file": ("faq.yaml", GOOD_YAML.encode(), "application/x-yaml")})
    assert response.status_code == 403
    assert _entries(client, q="-test") == []


@pytest.mark.parametrize("fmt", ["yaml", "csv"])
def test_export_round_trip(client: TestClient, agent: str, factory: sessionmaker, fmt: str) -> None:
    client.post("/api/staff/faq", json=NEW_ENTRY, headers=csrf_headers(agent))
    download = client.get(f"/staff/faq/export.{fmt}")
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    with factory.begin() as session:
        before = export_yaml(session=session), export_csv(session=session)

    again = _upload(client, agent, f"faq.{fmt}", download.content.decode("utf-8"))
    assert again.status_code == 200 and "新增 0 条" in again.text
    with factory.begin() as session:
        assert (export_yaml(session=session), export_csv(session=session)) == before
    assert "faq.export" in _actions(factory)


def test_unanswered_questions_most_frequent_first(client: TestClient, agent: str, factory: sessionmaker) -> None:
    with factory.begin() as session:
        for text, times in (("宠物能办低保吗", 1), ("我的手机号13812345678能查进度吗", 3), ("外星人结婚怎么登记", 2)):
            for _ in range(times):
                record_unanswered(text, session=session)
    questions = client.get("/api/staff/unanswered").json()["questions"]
    assert [q["count"] for q in questions] == [3, 2, 1]
    assert questions[0]["text"] == "我的手机号138****5678能查进度吗"

    page = client.get("/staff/unanswered")
    assert page.text.index("138****5678") < page.text.index("外星人结婚") < page.text.index("宠物能办低保")
    assert "13812345678" not in page.text
    assert _actions(factory)[:2] == ["unanswered.view", "unanswered.view"]

    resolve = client.post(
        f"/staff/unanswered/{questions[2]['id']}/resolve", data={"csrf_token": agent}, follow_redirects=False
    )
    assert resolve.status_code == 303
    assert [q["count"] for q in client.get("/api/staff/unanswered").json()["questions"]] == [3, 2]


def test_a_faq_created_from_an_unanswered_question_resolves_it(
    client: TestClient, agent: str, factory: sessionmaker
) -> None:
    with factory.begin() as session:
        record_unanswered("外星人结婚怎么登记", session=session)
    question = client.get("/api/staff/unanswered").json()["questions"][0]
    form = client.get("/staff/faq/new", params={"from_unanswered": question["id"]})
    assert 'value="外星人结婚怎么登记"' in form.text
    assert f'name="from_unanswered" value="{question["id"]}"' in form.text

    saved = client.post(
        "/staff/faq/new",
        follow_redirects=False,
        data={
            "csrf_token": hidden_csrf(form.text),
            "from_unanswered": str(question["id"]),
            "key": "alien-marriage",
            "category": "marriage",
            "question": "外星人结婚怎么登记",
            "answer": "目前只受理中国公民的婚姻登记。",
            "locality": "national",
            "active": "1",
        },
    )
    assert saved.status_code == 303
    assert client.get("/api/staff/unanswered").json()["questions"] == []
    assert _actions(factory)[1:3] == ["unanswered.resolve", "faq.create"]


def test_every_staff_action_is_audited_with_the_client_ip(
    client: TestClient, agent: str, factory: sessionmaker
) -> None:
    headers = csrf_headers(agent)
    client.post("/api/staff/faq", json=NEW_ENTRY, headers=headers)
    client.post("/api/staff/faq", json={**NEW_ENTRY, "answer": "改过的答复。"}, headers=headers)
    client.post("/api/staff/faq/pet-registration-test/deactivate", headers=headers)
    _upload(client, agent, "faq.yaml", GOOD_YAML)
    client.get("/staff/faq/export.csv")
    client.get("/staff/unanswered")
    client.post("/api/staff/logout", headers=headers)
    with factory.begin() as session:
        records = list_audit(session=session)
        assert [r.action for r in reversed(records)] == [
            "login",
            "faq.create",
            "faq.update",
            "faq.deactivate",
            "faq.import",
            "faq.export",
            "unanswered.view",
            "logout",
        ]
        assert {r.staff_user.username for r in records} == {"agent1"}
        assert {r.ip for r in records} == {"testclient"}


def test_the_editor_keeps_variants_and_near_misses_and_the_searcher_learns_them(
    client: TestClient, agent: str, factory: sessionmaker, migrated_settings: Settings
) -> None:
    searcher = _searcher(migrated_settings)
    form = {
        **NEW_ENTRY,
        "alternatives": "",
        "keywords": "",
        "active": "1",
        "csrf_token": agent,
        "variants": "去红色星球住要办哪些手续\n想搬到火星上过日子咋弄",
        "near_misses": "火星上的低保怎么申请 => dibao-how-to-apply\n火星天气冷不冷",
    }
    assert client.post("/staff/faq/new", data=form, follow_redirects=False).status_code == 303
    entry = _entries(client, q="pet-registration-test")[0]
    assert entry["variants"] == ["去红色星球住要办哪些手续", "想搬到火星上过日子咋弄"]
    assert entry["near_misses"] == [
        {"text": "火星上的低保怎么申请", "answer": "dibao-how-to-apply"},
        {"text": "火星天气冷不冷", "answer": "none"},
    ]
    page = client.get("/staff/faq/pet-registration-test/edit").text
    assert "去红色星球住要办哪些手续" in page and "火星上的低保怎么申请 =&gt; dibao-how-to-apply" in page
    # A phrasing only the variants hold (not the question) finds the entry.
    assert _found_keys(factory, searcher, "去红色星球住要办哪些手续")[0] == "pet-registration-test"


def test_the_editor_keeps_the_choices_an_entry_asks_back_with(client: TestClient, agent: str) -> None:
    form = {**NEW_ENTRY, "active": "1", "csrf_token": agent, "choices": "dibao-eligibility\ntekun-eligibility"}
    assert client.post("/staff/faq/new", data=form, follow_redirects=False).status_code == 303
    assert _entries(client, q="pet-registration-test")[0]["choices"] == ["dibao-eligibility", "tekun-eligibility"]
    page = client.get("/staff/faq/pet-registration-test/edit").text
    assert "dibao-eligibility\ntekun-eligibility" in page


def test_a_choice_that_names_no_entry_is_refused_politely(client: TestClient, agent: str) -> None:
    form = {**NEW_ENTRY, "active": "1", "csrf_token": agent, "choices": "dibao-eligibility\ndibao-eligibilty"}
    response = client.post("/staff/faq/new", data=form, follow_redirects=False)
    assert response.status_code == 422 and "没有这些编号：dibao-eligibilty" in response.text
    assert _entries(client, q="pet-registration-test") == []
    api = client.post("/api/staff/faq", json={**NEW_ENTRY, "choices": ["nope-entry"]}, headers=csrf_headers(agent))
    assert api.status_code == 422 and "nope-entry" in api.text
