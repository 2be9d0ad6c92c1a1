"""FAQ editor (问答库) and unanswered questions (未解答问题): staff pages and the JSON API.

Every write goes through ``civil_affairs.faq.store`` (``upsert_faq`` bumps ``updated_at``, so the
FAQ searcher re-indexes before the next resident message) and leaves an audit record. State-changing
requests pass ``check_csrf``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import quote

from fastapi import (
    APIRouter,
    Depends,
    Form,
    HTTPException,
    Request,
    Response,
    status,
)
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from civil_affairs import audit, clock
from civil_affairs.faq.store import (
    FaqData,
    FaqValidationError,
    as_data,
    check_choices,
    find_entry,
    list_faq,
    near_miss_lines,
    parse_faq,
    resolve_unanswered,
    upsert_faq,
)
from civil_affairs.models import FaqEntry, UnansweredQuestion
from civil_affairs.models.faq import CATEGORY_LABELS
from console.deps import StaffContext, check_csrf, client_ip, current_staff, render, sessions

router = APIRouter()

MAX_IMPORT_BYTES = 2 * 1024 * 1024
IMPORT_FORMATS = {".yaml": "yaml", ".yml": "yaml", ".csv": "csv"}
LOCALITY_LABELS = {"national": "全国通用", "local": "本地（附加咨询电话）"}
NOT_FOUND_TEXT = "没有这个问答条目"
KEY_TAKEN_TEXT = "编号 {key} 已存在，请换一个编号，或在列表中编辑该条目"
UNANSWERED_LIMIT = 200


def entry_json(entry: FaqEntry) -> dict[str, Any]:
    """An entry as the JSON API returns it."""
    data = asdict(as_data(entry))
    data["reviewed"] = entry.reviewed.isoformat() if entry.reviewed else None
    data["updated_at"] = entry.updated_at.isoformat() if entry.updated_at else None
    return data


def save_entry(data: FaqData, created: bool, staff: StaffContext, ip: str, *, session: Session) -> FaqEntry:
    """Write one entry and audit it as a create or an update; FaqValidationError (nothing written) when
    its choices name no entry."""
    check_choices(data, session=session)
    entry = upsert_faq(data, session=session)
    audit.record(
        audit.FAQ_CREATE if created else audit.FAQ_UPDATE,
        session=session,
        staff_user_id=staff.user_id,
        target_type="faq",
        target_id=data.key,
        detail=data.question,
        ip=ip,
    )
    return entry


def set_entry_active(key: str, active: bool, staff: StaffContext, ip: str, *, session: Session) -> FaqEntry | None:
    """Deactivate or reactivate an entry (through upsert_faq, so search re-indexes); None if missing."""
    entry = find_entry(key, session=session)
    if entry is None:
        return None
    data = as_data(entry)
    data.active = active
    entry = upsert_faq(data, session=session)
    audit.record(
        audit.FAQ_ACTIVATE if active else audit.FAQ_DEACTIVATE,
        session=session,
        staff_user_id=staff.user_id,
        target_type="faq",
        target_id=key,
        detail=entry.question,
        ip=ip,
    )
    return entry


# --- pages ------------------------------------------------------------------------------------------


def faq_form(
    entry_key: str = Form("", alias="key"),
    category: str = Form(""),
    question: str = Form(""),
    alternatives: str = Form(""),
    keywords: str = Form(""),
    answer: str = Form(""),
    source: str = Form(""),
    locality: str = Form("national"),
    reviewed: str = Form(""),
    active: str = Form(""),
    variants: str = Form(""),
    near_misses: str = Form(""),
    choices: str = Form(""),
) -> dict[str, str]:
    """The editor's fields as a raw record for parse_faq (lists one per line; unticked = inactive)."""
    # ``entry_key`` because the edit route's path already has a ``key`` parameter.
    return {
        "key": entry_key,
        "category": category,
        "question": question,
        "alternatives": alternatives,
        "keywords": keywords,
        "answer": answer,
        "source": source,
        "locality": locality,
        "reviewed": reviewed,
        "active": "1" if active else "0",
        "variants": variants,
        "near_misses": near_misses,
        "choices": choices,
    }


def _form_values(entry: FaqEntry | None = None, **overrides: str) -> dict[str, Any]:
    """What the editor's fields show: an entry's values, or a blank active entry."""
    values: dict[str, Any] = {
        "key": "",
        "category": "",
        "question": "",
        "alternatives": "",
        "keywords": "",
        "answer": "",
        "source": "",
        "locality": "national",
        "reviewed": clock.local_today().isoformat(),
        "active": True,
        "variants": "",
        "near_misses": "",
        "choices": "",
    }
    if entry is not None:
        values.update(
            key=entry.key,
            category=entry.category,
            question=entry.question,
            alternatives="\n".join(entry.alternatives or []),
            keywords="\n".join(entry.keywords or []),
            answer=entry.answer,
            source=entry.source or "",
            locality=entry.locality,
            reviewed=entry.reviewed.isoformat() if entry.reviewed else "",
            active=entry.active,
            variants="\n".join(entry.variants or []),
            near_misses="\n".join(near_miss_lines(entry.near_misses)),
            choices="\n".join(entry.choices or []),
        )
    values.update(overrides)
    return values


def _editor(
    request: Request,
    staff: StaffContext,
    values: dict[str, Any],
    *,
    is_new: bool,
    problems: list[str] | None = None,
    from_unanswered: int | None = None,
    code: int = status.HTTP_200_OK,
) -> Response:
    return render(
        request,
        "staff/faq_form.html",
        {
            "nav": "faq",
            "values": values,
            "is_new": is_new,
            "problems": problems or [],
            "categories": CATEGORY_LABELS,
            "localities": LOCALITY_LABELS,
            "from_unanswered": from_unanswered,
        },
        staff=staff,
        status_code=code,
    )


def _invalid_form(raw: dict[str, str]) -> dict[str, Any]:
    """A rejected form shown again as typed (the tick box included)."""
    return {**raw, "active": raw.get("active") == "1"}


@router.get("/staff/faq", include_in_schema=False)
def faq_list_page(
    request: Request, q: str = "", category: str = "", saved: str = "", staff: StaffContext = Depends(current_staff)
) -> Response:
    """All entries, filtered by a text and a category."""
    category = category if category in CATEGORY_LABELS else ""
    with sessions(request).begin() as session:
        entries = list_faq(session=session, query=q.strip(), category=category)
    return render(
        request,
        "staff/faq_list.html",
        {"nav": "faq", "entries": entries, "q": q, "category": category, "saved": saved, "categories": CATEGORY_LABELS},
        staff=staff,
    )


@router.get("/staff/faq/new", include_in_schema=False)
def faq_new_page(
    request: Request, from_unanswered: int | None = None, staff: StaffContext = Depends(current_staff)
) -> Response:
    """A blank editor, or one holding an unanswered question's text."""
    overrides: dict[str, str] = {}
    if from_unanswered is not None:
        with sessions(request).begin() as session:
            row = session.get(UnansweredQuestion, from_unanswered)
            if row is None:
                from_unanswered = None
            else:
                overrides["question"] = row.text[:200]
    return _editor(request, staff, _form_values(None, **overrides), is_new=True, from_unanswered=from_unanswered)


@router.post("/staff/faq/new", include_in_schema=False)
def faq_create_submit(
    request: Request,
    raw: dict[str, str] = Depends(faq_form),
    from_unanswered: int | None = Form(None),
    staff: StaffContext = Depends(check_csrf),
) -> Response:
    """Create an entry; an existing key is refused rather than overwritten."""

    def refused(problems: list[str], code: int = status.HTTP_422_UNPROCESSABLE_ENTITY) -> Response:
        return _editor(
            request,
            staff,
            _invalid_form(raw),
            is_new=True,
            problems=problems,
            from_unanswered=from_unanswered,
            code=code,
        )

    try:
        data = parse_faq(raw)
        with sessions(request).begin() as session:
            if find_entry(data.key, session=session) is not None:
                return refused([KEY_TAKEN_TEXT.format(key=data.key)], status.HTTP_409_CONFLICT)
            save_entry(data, True, staff, client_ip(request), session=session)
            if from_unanswered is not None and resolve_unanswered(from_unanswered, session=session):
                audit.record(
                    audit.UNANSWERED_RESOLVE,
                    session=session,
                    staff_user_id=staff.user_id,
                    target_type="unanswered",
                    target_id=from_unanswered,
                    detail=f"已新建问答 {data.key}",
                    ip=client_ip(request),
                )
    except FaqValidationError as exc:
        return refused(exc.problems)
    return RedirectResponse(_saved_url(data.key), status_code=status.HTTP_303_SEE_OTHER)


@router.get("/staff/faq/{key}/edit", include_in_schema=False)
def faq_edit_page(request: Request, key: str, staff: StaffContext = Depends(current_staff)) -> Response:
    """The editor holding one entry."""
    with sessions(request).begin() as session:
        entry = find_entry(key, session=session)
        if entry is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
        values = _form_values(entry)
    return _editor(request, staff, values, is_new=False)


@router.post("/staff/faq/{key}/edit", include_in_schema=False)
def faq_edit_submit(
    request: Request, key: str, raw: dict[str, str] = Depends(faq_form), staff: StaffContext = Depends(check_csrf)
) -> Response:
    """Save an edited entry; the key comes from the address and cannot be changed here."""
    raw = {**raw, "key": key}
    try:
        data = parse_faq(raw)
        with sessions(request).begin() as session:
            if find_entry(key, session=session) is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
            save_entry(data, False, staff, client_ip(request), session=session)
    except FaqValidationError as exc:
        return _editor(
            request,
            staff,
            _invalid_form(raw),
            is_new=False,
            problems=exc.problems,
            code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    return RedirectResponse(_saved_url(key), status_code=status.HTTP_303_SEE_OTHER)


@router.post("/staff/faq/{key}/deactivate", include_in_schema=False)
def faq_deactivate_submit(request: Request, key: str, staff: StaffContext = Depends(check_csrf)) -> Response:
    """Stop answering with an entry (it stays in the list, marked 已停用)."""
    return _toggle(request, key, False, staff)


@router.post("/staff/faq/{key}/activate", include_in_schema=False)
def faq_activate_submit(request: Request, key: str, staff: StaffContext = Depends(check_csrf)) -> Response:
    """Answer with a deactivated entry again."""
    return _toggle(request, key, True, staff)


def _saved_url(key: str) -> str:
    """The list page with the "saved" notice for ``key``."""
    return f"/staff/faq?saved={quote(key, safe='')}"


def _toggle(request: Request, key: str, active: bool, staff: StaffContext) -> Response:
    with sessions(request).begin() as session:
        if set_entry_active(key, active, staff, client_ip(request), session=session) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
    return RedirectResponse(_saved_url(key), status_code=status.HTTP_303_SEE_OTHER)
