"""The console's three conventions (issue 12, item 6), checked so they stay true.

1. Request bodies: JSON endpoints take a pydantic model, form endpoints ``Form()`` fields; nothing
   reads the raw body itself (``check_csrf`` reads the form for its token, which is fine).
2. Every staff route declares its minimum role in its signature (``deps.py``); ``has_role`` elsewhere
   only where the role changes the data, not the access.
3. No ``async def`` does database work on the event loop: a handler that awaits nothing is a plain
   ``def`` (FastAPI runs it in a thread), one that must await hands its database work to a thread.

The checks read the source (AST) and the registered routes; they are simple on purpose: a call is
"database work" when it opens a transaction (``.begin()``), takes the session factory
(``sessions(...)``, ``app.state.sessions``), or calls a console function that does.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from civil_affairs.config import PROJECT_ROOT
from console.app import create_app
from console.deps import CSRF_TEXT, FORBIDDEN_TEXT, check_csrf, current_staff
from tests.conftest import make_settings
from tests.console.conftest import csrf_headers

CONSOLE = PROJECT_ROOT / "console"
THREAD_RUNNERS = {"run_in_threadpool", "to_thread"}
ASYNC_DATABASE_ALLOWED = {
    ("app.py", "lifespan"): "startup (bootstrap admin) runs before any request is served",
}
HAS_ROLE_ALLOWED = {
    ("deps.py", "_with_role"): "the role dependencies themselves",
    ("appointments.py", "export_submit"): "full phones in the CSV only for supervisors; agents get masked ones",
    ("handoffs.py", "claim_handoff"): "anyone may claim for themselves; assigning to a colleague needs a supervisor",
}
PUBLIC_STAFF_ROUTES = {
    ("GET", "/staff"),
    ("GET", "/staff/login"),
    ("POST", "/staff/login"),
    ("POST", "/api/staff/login"),
}
ROLE_DEPENDENCIES = {
    "current_staff",
    "check_csrf",
    "require_role.<locals>.dependency",
    "csrf_and_role.<locals>.dependency",
}


def _trees() -> dict[str, ast.Module]:
    return {path.name: ast.parse(path.read_text(encoding="utf-8")) for path in sorted(CONSOLE.glob("*.py"))}


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _called_name(call: ast.Call) -> str:
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _calls(node: ast.AST) -> Iterator[ast.Call]:
    """Calls made by ``node`` itself on its thread: not inside nested functions, nor handed to a thread."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        if isinstance(child, ast.Call):
            yield child
            if _called_name(child) in THREAD_RUNNERS:
                continue  # what runs in the thread (the function and its arguments' calls) is not ours
        yield from _calls(child)


def _opens_database(call: ast.Call) -> bool:
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr == "begin":
        return True
    if isinstance(func, ast.Name) and func.id == "sessions":
        return True
    return isinstance(func, ast.Attribute) and func.attr == "sessions" and ast.unparse(func).endswith("state.sessions")


def _database_functions(trees: dict[str, ast.Module]) -> set[str]:
    """Names of the console's plain functions that do database work, directly or through each other."""
    plain = {f.name: f for tree in trees.values() for f in _functions(tree) if isinstance(f, ast.FunctionDef)}
    found = {name for name, f in plain.items() if any(_opens_database(c) for c in _calls(f))}
    while True:
        more = {name for name, f in plain.items() if any(_called_name(c) in found for c in _calls(f))} - found
        if not more:
            return found
        found |= more


def test_no_async_function_does_database_work_on_the_event_loop() -> None:
    trees = _trees()
    blocking = _database_functions(trees)
    offenders = []
    for module, tree in trees.items():
        for function in _functions(tree):
            if not isinstance(function, ast.AsyncFunctionDef) or (module, function.name) in ASYNC_DATABASE_ALLOWED:
                continue
            for call in _calls(function):
                if _opens_database(call) or _called_name(call) in blocking:
                    offenders.append(f"{module}:{call.lineno} {function.name} calls {_called_name(call)}")
    assert offenders == []


def test_the_checker_sees_blocking_calls() -> None:
    """The check above is only worth something if it flags what it is meant to."""
    tree = ast.parse(
        "def helper(request):\n    with sessions(request).begin() as s:\n        return 1\n"
        "async def direct(request):\n    with sessions(request).begin() as s:\n        pass\n"
        "async def indirect(request):\n    return helper(request)\n"
        "async def threaded(request):\n    return await run_in_threadpool(helper, request)\n"
    )
    blocking = _database_functions({"m.py": tree})
    flagged = {
        f.name
        for f in _functions(tree)
        if isinstance(f, ast.AsyncFunctionDef)
        and any(_opens_database(c) or _called_name(c) in blocking for c in _calls(f))
    }
    assert flagged == {"direct", "indirect"}


def test_role_checks_live_in_deps_unless_the_role_changes_the_data() -> None:
    found = {
        (module, function.name)
        for module, tree in _trees().items()
        for function in _functions(tree)
        for call in _calls(function)
        if _called_name(call) == "has_role"
    }
    assert found == set(HAS_ROLE_ALLOWED)


def test_no_handler_reads_the_raw_body() -> None:
    """Bodies come as models or ``Form()`` fields; only ``check_csrf`` reads the form itself (for its token)."""
    readers = {
        (module, function.name)
        for module, tree in _trees().items()
        for function in _functions(tree)
        for call in _calls(function)
        if _called_name(call) in ("body", "json", "form") and ast.unparse(call.func).startswith("request.")
    }
    assert readers == {("deps.py", "check_csrf")}


def _dependency_names(dependencies: list) -> Iterator[str]:
    for dependency in dependencies:
        yield getattr(dependency.call, "__qualname__", "")
        yield from _dependency_names(dependency.dependencies)


def test_every_staff_route_declares_its_minimum_role(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    checked = 0
    for route in app.routes:
        if not isinstance(route, APIRoute) or not route.path.startswith(("/staff", "/api/staff")):
            continue
        for method in route.methods - {"HEAD"}:
            if (method, route.path) in PUBLIC_STAFF_ROUTES:
                continue
            declared = {getattr(d.call, "__qualname__", "") for d in route.dependant.dependencies}
            assert declared & ROLE_DEPENDENCIES, f"{method} {route.path} declares no role"
            every = set(_dependency_names(route.dependant.dependencies))
            assert current_staff.__qualname__ in every, f"{method} {route.path}"
            if method != "GET":
                assert check_csrf.__qualname__ in every, f"{method} {route.path} changes state without check_csrf"
            checked += 1
    assert checked > 50  # the whole staff side, not a stale list


def test_bodies_are_checked_by_their_model_with_chinese_answers(client: TestClient, agent: str) -> None:
    claim = "/api/staff/handoffs/999/claim"  # the body is checked before the handoff is looked up
    form = client.post(claim, data={"staff_user_id": "2"}, headers=csrf_headers(agent))
    assert form.status_code == 422 and form.json()["detail"] == '请求内容须为 JSON，例如 {"staff_user_id": 7}'
    wrong_type = client.post(claim, json={"staff_user_id": "2"}, headers=csrf_headers(agent))
    assert (
        wrong_type.status_code == 422 and wrong_type.json()["detail"] == "请求内容格式不正确（staff_user_id：类型不对）"
    )
    # A model without an example keeps the general answers.
    assert client.post("/api/staff/login", content=b"{").json()["detail"] == "请求内容须为有效的 JSON"
    assert client.post("/api/staff/login", json=[1, 2]).json()["detail"] == "请求内容格式不正确（类型不对）"
    # The web chat answers in chat messages: ``{}`` is an empty message, ``[]`` (an object to pydantic 1) is not.
    assert client.post("/api/chat", json={}).json()["messages"][0]["text"] == "请先输入您的问题。"
    assert client.post("/api/chat", json=[]).status_code == 422


def test_supervisor_writes_check_the_csrf_token_then_the_role(client: TestClient, agent: str) -> None:
    url = "/staff/appointments/calendar/seed"
    assert client.post(url, data={"year": "2031", "csrf_token": "forged"}).json()["detail"] == CSRF_TEXT
    assert client.post(url, data={"year": "2031", "csrf_token": agent}).json()["detail"] == FORBIDDEN_TEXT
