"""Reading and writing the FAQ store: validation, seed/import/export (YAML, CSV), unanswered log.

Functions take a keyword-only ``session`` and never commit: the caller frames the transaction.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from civil_affairs.config import BureauContacts
from civil_affairs.models import FaqEntry, UnansweredQuestion
from civil_affairs.models.base import utcnow
from civil_affairs.models.faq import CATEGORIES, LOCALITIES
from civil_affairs.ops import metrics
from civil_affairs.privacy import mask_personal_data
from civil_affairs.text import normalize

# What an entry holds besides its key: the editor's fields, the CSV columns and what an upsert writes.
ENTRY_FIELDS = (
    "category",
    "question",
    "alternatives",
    "keywords",
    "answer",
    "source",
    "locality",
    "reviewed",
    "active",
    "variants",
    "near_misses",
    "choices",
)
CSV_FIELDS = ("key", *ENTRY_FIELDS)
LIST_SEPARATOR = "|"
# A near miss written as one line: "低保申请表交到哪里 => dibao-how-to-apply" (no key: no entry answers it).
NEAR_MISS_ARROWS = ("=>", "→")
NO_ENTRY = "none"


class FaqValidationError(ValueError):
    """A FAQ record is incomplete or malformed; ``problems`` lists each issue in Chinese."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("；".join(problems))
        self.problems = problems


@dataclass
class FaqData:
    """A validated FAQ record, independent of where it came from (form, YAML, CSV)."""

    key: str
    category: str
    question: str
    answer: str
    alternatives: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    source: str = ""
    locality: str = "national"
    reviewed: date | None = None
    active: bool = True
    variants: list[str] = field(default_factory=list)
    near_misses: list[dict[str, str]] = field(default_factory=list)
    choices: list[str] = field(default_factory=list)


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        parts = value.replace("\n", LIST_SEPARATOR).split(LIST_SEPARATOR)
        return [p.strip() for p in parts if p.strip()]
    return [str(v).strip() for v in value if str(v).strip()]


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() not in ("0", "false", "no", "否", "停用", "")


def _as_near_misses(value: Any) -> list[dict[str, str]]:
    """Near misses from seed/YAML mappings or from "text => key" lines (editor, CSV)."""
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        items = [(str(v.get("text") or "").strip(), str(v.get("answer") or "").strip()) for v in value]
    else:
        items = []
        for line in _as_list(value):
            text, answer = line, ""
            for arrow in NEAR_MISS_ARROWS:
                if arrow in line:
                    text, answer = (part.strip() for part in line.rsplit(arrow, 1))
                    break
            items.append((text, answer))
    return [{"text": text, "answer": answer or NO_ENTRY} for text, answer in items if text]


def near_miss_lines(near_misses: list[dict[str, str]] | None) -> list[str]:
    """Near misses as the editor and the CSV show them, one "text => key" each."""
    return [f"{m.get('text', '')} => {m.get('answer') or NO_ENTRY}" for m in near_misses or []]


def parse_faq(raw: dict[str, Any]) -> FaqData:
    """Validate one raw record; raises FaqValidationError naming every problem at once."""
    problems: list[str] = []
    key = str(raw.get("key") or "").strip()
    question = str(raw.get("question") or "").strip()
    answer = str(raw.get("answer") or "").strip()
    category = str(raw.get("category") or "").strip()
    locality = str(raw.get("locality") or "national").strip()
    if not key or len(key) > 80:
        problems.append("编号（key）不能为空，且不超过80个字符")
    if not question or len(question) > 200:
        problems.append("标准问题不能为空，且不超过200字")
    if not answer:
        problems.append("答复内容不能为空")
    if category not in CATEGORIES:
        problems.append(f"分类必须是 {', '.join(CATEGORIES)} 之一")
    if locality not in LOCALITIES:
        problems.append("适用范围必须是 national 或 local")
    reviewed: date | None = None
    raw_reviewed = raw.get("reviewed")
    if isinstance(raw_reviewed, date):
        reviewed = raw_reviewed
    elif raw_reviewed:
        try:
            reviewed = date.fromisoformat(str(raw_reviewed).strip())
        except ValueError:
            problems.append("审核日期格式应为 YYYY-MM-DD")
    choices = _as_list(raw.get("choices"))
    if key and key in choices:
        problems.append("可选条目（choices）不能包含本条目自己")
    if problems:
        raise FaqValidationError(problems)
    return FaqData(
        key=key,
        category=category,
        question=question,
        answer=answer,
        alternatives=_as_list(raw.get("alternatives")),
        keywords=_as_list(raw.get("keywords")),
        source=str(raw.get("source") or "").strip(),
        locality=locality,
        reviewed=reviewed,
        active=_as_bool(raw.get("active", True)),
        variants=_as_list(raw.get("variants")),
        near_misses=_as_near_misses(raw.get("near_misses")),
        choices=choices,
    )


def check_choices(data: FaqData, *, session: Session, also_known: Iterable[str] = ()) -> None:
    """Refuse choices that name no entry (a typo would silently drop a button); ``also_known`` are
    keys being imported together with ``data``."""
    if not data.choices:
        return
    known = set(also_known) | set(session.scalars(select(FaqEntry.key).where(FaqEntry.key.in_(data.choices))))
    missing = [key for key in data.choices if key not in known]
    if missing:
        raise FaqValidationError([f"可选条目（choices）中没有这些编号：{', '.join(missing)}"])


def find_entry(key: str, *, session: Session) -> FaqEntry | None:
    """The entry with exactly ``key``, active or not."""
    if not key:
        return None
    return session.scalars(select(FaqEntry).where(FaqEntry.key == key)).one_or_none()


def as_data(entry: FaqEntry) -> FaqData:
    """An entry's current values, to change one field and write it back with upsert_faq."""
    return FaqData(
        key=entry.key,
        category=entry.category,
        question=entry.question,
        answer=entry.answer,
        alternatives=list(entry.alternatives or []),
        keywords=list(entry.keywords or []),
        source=entry.source or "",
        locality=entry.locality,
        reviewed=entry.reviewed,
        active=entry.active,
        variants=list(entry.variants or []),
        near_misses=[dict(m) for m in entry.near_misses or []],
        choices=list(entry.choices or []),
    )


def upsert_faq(data: FaqData, *, session: Session) -> FaqEntry:
    """Create the entry with ``data.key`` or overwrite it."""
    entry = session.scalars(select(FaqEntry).where(FaqEntry.key == data.key)).one_or_none()
    if entry is None:
        entry = FaqEntry(key=data.key)
        session.add(entry)
    for name in ENTRY_FIELDS:
        setattr(entry, name, getattr(data, name))
    entry.updated_at = utcnow()
    session.flush()
    return entry


@dataclass
class ImportReport:
    """What an import did; rejected rows are reported by line and nothing of them is written."""

    created: int = 0
    updated: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)


def import_records(records: Iterable[dict[str, Any]], *, session: Session, create_only: bool = False) -> ImportReport:
    """Validate every record first; write only when all are valid, so nothing is half-imported.

    ``create_only`` (used by the seed) leaves existing entries as staff edited them, except that
    an entry without training examples (created before they existed) gets the record's variants and
    near misses, so an upgraded database learns from the seed too.
    """
    report = ImportReport()
    parsed: list[tuple[int, FaqData]] = []
    seen: set[str] = set()
    for number, raw in enumerate(records, start=1):
        try:
            data = parse_faq(raw)
        except FaqValidationError as exc:
            report.rejected.append((number, str(exc)))
            continue
        if data.key in seen:
            report.rejected.append((number, f"编号 {data.key} 重复"))
            continue
        seen.add(data.key)
        parsed.append((number, data))
    for number, data in parsed:
        try:
            check_choices(data, session=session, also_known=seen)
        except FaqValidationError as exc:
            report.rejected.append((number, str(exc)))
    if report.rejected:
        report.rejected.sort()
        return report
    existing = set(session.scalars(select(FaqEntry.key)).all())
    for _, data in parsed:
        if data.key in existing:
            if create_only:
                _fill_training_examples(data, session=session)
                continue
            report.updated += 1
        else:
            report.created += 1
        upsert_faq(data, session=session)
    return report


def _fill_training_examples(data: FaqData, *, session: Session) -> None:
    """Give an existing entry the record's variants and near misses when it has none."""
    entry = find_entry(data.key, session=session)
    if entry is None or entry.variants or entry.near_misses:
        return
    if data.variants or data.near_misses:
        entry.variants = list(data.variants)
        entry.near_misses = [dict(m) for m in data.near_misses]
        entry.updated_at = utcnow()
        session.flush()


def read_yaml(text: str) -> list[dict[str, Any]]:
    """Records of a YAML export or seed file (a list of mappings)."""
    data = yaml.safe_load(text) or []
    if not isinstance(data, list) or not all(isinstance(item, dict) for item in data):
        raise FaqValidationError(["YAML 文件应是问答条目的列表"])
    return data


def read_csv(text: str) -> list[dict[str, Any]]:
    """Records of a CSV export (UTF-8, header row; list fields separated by '|')."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = {"key", "category", "question", "answer"} - set(reader.fieldnames or [])
    if missing:
        raise FaqValidationError([f"CSV 缺少列：{', '.join(sorted(missing))}"])
    return list(reader)


def _record(entry: FaqEntry) -> dict[str, Any]:
    return {
        "key": entry.key,
        "category": entry.category,
        "question": entry.question,
        "alternatives": list(entry.alternatives or []),
        "keywords": list(entry.keywords or []),
        "answer": entry.answer,
        "source": entry.source,
        "locality": entry.locality,
        "reviewed": entry.reviewed.isoformat() if entry.reviewed else "",
        "active": entry.active,
        "variants": list(entry.variants or []),
        "near_misses": [dict(m) for m in entry.near_misses or []],
        "choices": list(entry.choices or []),
    }


def export_yaml(*, session: Session) -> str:
    """All entries as YAML, in the seed file's format."""
    entries = session.scalars(select(FaqEntry).order_by(FaqEntry.category, FaqEntry.key)).all()
    return yaml.safe_dump([_record(e) for e in entries], allow_unicode=True, sort_keys=False)


def export_csv(*, session: Session) -> str:
    """All entries as CSV with a BOM, so Excel on Chinese Windows opens it correctly."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS)
    writer.writeheader()
    for entry in session.scalars(select(FaqEntry).order_by(FaqEntry.category, FaqEntry.key)):
        row = _record(entry)
        row["alternatives"] = LIST_SEPARATOR.join(row["alternatives"])
        row["keywords"] = LIST_SEPARATOR.join(row["keywords"])
        row["variants"] = LIST_SEPARATOR.join(row["variants"])
        row["near_misses"] = LIST_SEPARATOR.join(near_miss_lines(row["near_misses"]))
        row["choices"] = LIST_SEPARATOR.join(row["choices"])
        row["active"] = "1" if row["active"] else "0"
        writer.writerow(row)
    return "\ufeff" + buffer.getvalue()


def list_faq(*, session: Session, query: str = "", category: str = "", include_inactive: bool = True) -> list[FaqEntry]:
    """Entries for the console list, filtered by a substring and a category."""
    stmt = select(FaqEntry).order_by(FaqEntry.category, FaqEntry.key)
    if query:
        like = f"%{query}%"
        stmt = stmt.where(or_(FaqEntry.question.like(like), FaqEntry.answer.like(like), FaqEntry.key.like(like)))
    if category:
        stmt = stmt.where(FaqEntry.category == category)
    if not include_inactive:
        stmt = stmt.where(FaqEntry.active == True)  # noqa: E712
    return list(session.scalars(stmt))


def record_unanswered(text: str, *, session: Session, intent: str | None = None) -> None:
    """Count a question the bot could not answer; personal numbers are masked before storing."""
    masked = mask_personal_data(text.strip())[:500]
    normalized = normalize(masked).replace(" ", "")[:200]
    if not normalized:
        return
    metrics.UNKNOWN_ANSWERS.labels(kind="faq").inc()
    row = session.scalars(select(UnansweredQuestion).where(UnansweredQuestion.normalized == normalized)).one_or_none()
    if row is None:
        session.add(UnansweredQuestion(normalized=normalized, text=masked, intent=intent, count=1))
    else:
        row.count += 1
        row.last_seen = utcnow()
        row.resolved = False
    session.flush()


def resolve_unanswered(question_id: int, *, session: Session) -> UnansweredQuestion | None:
    """Mark one unanswered question as dealt with; None when there is no such question."""
    row = session.get(UnansweredQuestion, question_id)
    if row is not None:
        row.resolved = True
        session.flush()
    return row


def list_unanswered(*, session: Session, limit: int = 100) -> list[UnansweredQuestion]:
    """Open unanswered questions, most frequent first."""
    stmt = (
        select(UnansweredQuestion)
        .where(UnansweredQuestion.resolved == False)  # noqa: E712
        .order_by(UnansweredQuestion.count.desc(), UnansweredQuestion.last_seen.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def format_answer(entry: FaqEntry, bureau: BureauContacts) -> str:
    """The answer as the resident reads it: text, then source, then where to confirm local figures."""
    parts = [entry.answer.strip()]
    if entry.source:
        parts.append(f"依据：{entry.source}")
    if entry.locality == "local":
        parts.append(f"具体标准以{bureau.region}民政部门当年公布为准，{bureau.confirm_line()}")
    # One blank-free block: Rasa splits a text at blank lines into separate chat messages.
    return "\n".join(parts)
