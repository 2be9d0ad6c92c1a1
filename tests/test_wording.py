"""What residents read lies in one file per channel layer, so the bureau can review every sentence there.

- Rasa: ``actions/texts.py`` (plus the rule responses in domain.yml);
- the conversation service (Telegram and web chat): ``civil_affairs/conversations/texts.py``;
- the Telegram bot: ``bot/texts.py``;
- the web chat page: ``console/templates/chat.html`` (chat.js reads its words from there).

Any other Chinese string literal in those layers fails here, unless it reads the residents' words
(a regex pattern, a comparison, a ``strip``/``startswith`` argument) or is listed in ``ALLOWED``
with the reason it is not resident-facing wording. Docstrings and comments do not count.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from civil_affairs.config import PROJECT_ROOT

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")
TEXT_FILES = {"actions/texts.py", "bot/texts.py", "civil_affairs/conversations/texts.py"}
SCANNED = (
    "actions",
    "bot",
    "civil_affairs/conversations",
    "console/webchat.py",
    # Notices the background jobs push to residents (worded in civil_affairs/conversations/texts.py).
    "civil_affairs/applications/notify.py",
    "civil_affairs/booking/reminders.py",
)
# Calls whose string arguments read what a resident typed.
READING_CALLS = {"compile", "search", "match", "fullmatch", "sub", "findall", "finditer", "split"}
READING_METHODS = {"strip", "lstrip", "rstrip", "startswith", "endswith", "replace"}

# (file, module-level name or enclosing function/class, or "*" for the whole file): why it may stay.
ALLOWED = {
    ("actions/booking/answers.py", "YES_WORDS"): "words read in a yes/no answer, never sent",
    ("actions/booking/answers.py", "NO_WORDS"): "words read in a yes/no answer, never sent",
    ("actions/booking/manage.py", "CANCEL_REASON"): "the cancel reason recorded for staff",
    ("actions/faq.py", "WARM_UP_QUERY"): "a search run at start-up, never shown",
    ("bot/__main__.py", "main"): "a start-up error on the operator's terminal",
    ("civil_affairs/conversations/delivery.py", "Delivery.to_staff_chat"): "a button in the staff chat",
    ("civil_affairs/conversations/handoff.py", "REASON_LABELS"): "handoff reasons in the staff console",
    ("civil_affairs/conversations/handoff.py", "get_handoff"): "HandoffError for the staff console",
    ("civil_affairs/conversations/handoff.py", "claim"): "HandoffError for the staff console",
    ("civil_affairs/conversations/handoff.py", "note_staff_reply"): "HandoffError for the staff console",
    ("civil_affairs/conversations/handoff.py", "resolve"): "HandoffError for the staff console",
    ("civil_affairs/conversations/handoff.py", "staff_alert"): "the alert in the staff chat",
    ("civil_affairs/conversations/handoff_views.py", "*"): "the staff console's views of handoffs",
}


def _docstrings(tree: ast.Module) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def _reading(node: ast.AST, parent: ast.AST | None) -> bool:
    """The literal is a pattern, a comparison operand or a strip/startswith argument: it reads input."""
    if isinstance(parent, ast.Compare):
        return True
    if isinstance(parent, ast.Call) and isinstance(parent.func, ast.Attribute) and node in parent.args:
        func = parent.func
        is_re = isinstance(func.value, ast.Name) and func.value.id == "re" and func.attr in READING_CALLS
        return is_re or func.attr in READING_METHODS
    return False


def _literals(path: Path) -> list[tuple[str, int, str]]:
    """(scope, line, text) of each Chinese string literal outside docstrings and regex-like uses."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = _docstrings(tree)
    found: list[tuple[str, int, str]] = []

    def visit(node: ast.AST, scope: str, parent: ast.AST | None) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = f"{scope}.{node.name}" if scope else node.name
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and not scope:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [t.id for t in targets if isinstance(t, ast.Name)]
            scope = names[0] if names else scope
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and CJK.search(node.value)
            and id(node) not in docstrings
            and not _reading(node, parent)
        ):
            found.append((scope, node.lineno, node.value))
        for child in ast.iter_child_nodes(node):
            visit(child, scope, node)

    for statement in tree.body:
        visit(statement, "", tree)
    return found


def _scanned_files() -> list[str]:
    files = []
    for entry in SCANNED:
        root = PROJECT_ROOT / entry
        paths = sorted(root.rglob("*.py")) if root.is_dir() else [root]
        files += [path.relative_to(PROJECT_ROOT).as_posix() for path in paths]
    return [f for f in files if f not in TEXT_FILES]


def test_resident_wording_lies_only_in_the_texts_files() -> None:
    stray = [
        f"{file}:{line} ({scope or 'module'}): {text[:40]!r}"
        for file in _scanned_files()
        if (file, "*") not in ALLOWED
        for scope, line, text in _literals(PROJECT_ROOT / file)
        if (file, scope.split(".")[0]) not in ALLOWED and (file, scope) not in ALLOWED
    ]
    assert stray == [], "resident-facing wording belongs in the layer's texts file:\n" + "\n".join(stray)


def test_every_allowance_is_still_needed() -> None:
    """An entry whose literals have moved away would silently allow new ones: remove it."""
    used = set()
    for file in _scanned_files():
        literals = _literals(PROJECT_ROOT / file)
        if literals:
            used.add((file, "*"))
        for scope, _, _ in literals:
            used |= {(file, scope), (file, scope.split(".")[0])}
    assert set(ALLOWED) - used == set()


def test_the_web_chat_script_takes_its_words_from_the_page() -> None:
    script = (PROJECT_ROOT / "console/static/chat.js").read_text(encoding="utf-8")
    code = "\n".join(line for line in script.splitlines() if not line.lstrip().startswith("//"))
    assert not CJK.search(code), "chat.js words belong in data-* attributes of templates/chat.html"
