"""FAQ editor (问答库) and unanswered questions (未解答问题): staff pages and the JSON API.

Every write goes through ``civil_affairs.faq.store`` (``upsert_faq`` bumps ``updated_at``, so the
FAQ searcher re-indexes before the next resident message) and leaves an audit record. State-changing
requests pass ``check_csrf``.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any
from urllib.parse import quote

import yaml
from fastapi import (
    APIRouter,
    Body,
    Depends,
    File,
    Form,
    HTTPException,
    Request,
    Response,
    UploadFile,
    status,
)
from fastapi.responses import JSONResponse, RedirectResponse
from sqlalchemy.orm import Session

from civil_affairs import audit, clock
from civil_affairs.faq.store import (
    FaqData,
    FaqValidationError,
    ImportReport,
    as_data,
    export_csv,
    export_yaml,
    find_entry,
    import_records,
    list_faq,
    list_unanswered,
    near_miss_lines,
    parse_faq,
    read_csv,
    read_yaml,
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


def _save(data: FaqData, created: bool, staff: StaffContext, ip: str, *, session: Session) -> FaqEntry:
    """Write one entry and audit it as a create or an update."""
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


def _set_active(key: str, active: bool, staff: StaffContext, ip: str, *, session: Session) -> FaqEntry | None:
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
    try:
        data = parse_faq(raw)
    except FaqValidationError as exc:
        return _editor(
            request,
            staff,
            _invalid_form(raw),
            is_new=True,
            problems=exc.problems,
            from_unanswered=from_unanswered,
            code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    with sessions(request).begin() as session:
        if find_entry(data.key, session=session) is not None:
            return _editor(
                request,
                staff,
                _invalid_form(raw),
                is_new=True,
                problems=[KEY_TAKEN_TEXT.format(key=data.key)],
                from_unanswered=from_unanswered,
                code=status.HTTP_409_CONFLICT,
            )
        _save(data, True, staff, client_ip(request), session=session)
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
    except FaqValidationError as exc:
        return _editor(
            request,
            staff,
            _invalid_form(raw),
            is_new=False,
            problems=exc.problems,
            code=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    with sessions(request).begin() as session:
        if find_entry(key, session=session) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
        _save(data, False, staff, client_ip(request), session=session)
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
        if _set_active(key, active, staff, client_ip(request), session=session) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
    return RedirectResponse(_saved_url(key), status_code=status.HTTP_303_SEE_OTHER)


@router.get("/staff/faq/import", include_in_schema=False)
def faq_import_page(request: Request, staff: StaffContext = Depends(current_staff)) -> Response:
    """The upload form for a YAML or CSV file."""
    return render(request, "staff/faq_import.html", {"nav": "faq", "report": None, "error": ""}, staff=staff)


def _read_upload(filename: str, content: bytes) -> list[dict[str, Any]]:
    """Records of an uploaded file; raises FaqValidationError for a file that cannot be read."""
    suffix = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    kind = IMPORT_FORMATS.get(suffix)
    if kind is None:
        raise FaqValidationError(["只支持 .yaml、.yml 或 .csv 文件"])
    if len(content) > MAX_IMPORT_BYTES:
        raise FaqValidationError([f"文件太大（上限 {MAX_IMPORT_BYTES // 1024 // 1024} MB）"])
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FaqValidationError(["文件须为 UTF-8 编码（Excel 请选择“CSV UTF-8”另存）"]) from exc
    if kind == "csv":
        return read_csv(text)
    try:
        return read_yaml(text)
    except yaml.YAMLError as exc:
        raise FaqValidationError(["YAML 格式有误，无法读取"]) from exc


@router.post("/staff/faq/import", include_in_schema=False)
def faq_import_submit(
    request: Request, file: UploadFile = File(...), staff: StaffContext = Depends(check_csrf)
) -> Response:
    """Import a file all-or-nothing and show what happened, row by row for rejected rows."""
    filename = file.filename or ""
    report: ImportReport | None = None
    error = ""
    with sessions(request).begin() as session:
        try:
            records = _read_upload(filename, file.file.read(MAX_IMPORT_BYTES + 1))
            report = import_records(records, session=session)
        except FaqValidationError as exc:
            error = str(exc)
        if report is None:
            detail = f"{filename}：无法读取，未导入"
        elif report.rejected:
            detail = f"{filename}：{len(report.rejected)} 行有错误，整个文件未导入"
        else:
            detail = f"{filename}：新增 {report.created} 条，更新 {report.updated} 条"
        audit.record(
            audit.FAQ_IMPORT,
            session=session,
            staff_user_id=staff.user_id,
            target_type="faq",
            detail=detail,
            ip=client_ip(request),
        )
    code = status.HTTP_200_OK if report and not report.rejected else status.HTTP_422_UNPROCESSABLE_ENTITY
    return render(
        request,
        "staff/faq_import.html",
        {"nav": "faq", "report": report, "error": error, "filename": filename},
        staff=staff,
        status_code=code,
    )


@router.get("/staff/faq/export.{fmt}", include_in_schema=False)
def faq_export(request: Request, fmt: str, staff: StaffContext = Depends(current_staff)) -> Response:
    """Download every entry (active or not) as YAML or CSV, the formats the import reads."""
    if fmt not in ("yaml", "csv"):
        raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
    with sessions(request).begin() as session:
        body = export_yaml(session=session) if fmt == "yaml" else export_csv(session=session)
        audit.record(
            audit.FAQ_EXPORT,
            session=session,
            staff_user_id=staff.user_id,
            target_type="faq",
            detail=fmt.upper(),
            ip=client_ip(request),
        )
    media = "application/x-yaml" if fmt == "yaml" else "text/csv"
    filename = f"faq-{clock.local_today().isoformat()}.{fmt}"
    return Response(
        body.encode("utf-8"),
        media_type=f"{media}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"},
    )


def _unanswered_rows(request: Request, staff: StaffContext) -> list[UnansweredQuestion]:
    """Open unanswered questions, most frequent first; viewing them is audited."""
    with sessions(request).begin() as session:
        rows = list_unanswered(session=session, limit=UNANSWERED_LIMIT)
        audit.record(
            audit.UNANSWERED_VIEW,
            session=session,
            staff_user_id=staff.user_id,
            target_type="unanswered",
            detail=f"{len(rows)} 条",
            ip=client_ip(request),
        )
    return rows


@router.get("/staff/unanswered", include_in_schema=False)
def unanswered_page(request: Request, staff: StaffContext = Depends(current_staff)) -> Response:
    """Questions the bot could not answer, to turn into FAQ entries or mark resolved."""
    return render(
        request, "staff/unanswered.html", {"nav": "unanswered", "rows": _unanswered_rows(request, staff)}, staff=staff
    )


@router.post("/staff/unanswered/{question_id}/resolve", include_in_schema=False)
def unanswered_resolve_submit(
    request: Request, question_id: int, staff: StaffContext = Depends(check_csrf)
) -> Response:
    """Take a question off the list (it returns if residents ask it again)."""
    with sessions(request).begin() as session:
        if resolve_unanswered(question_id, session=session) is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个问题")
        audit.record(
            audit.UNANSWERED_RESOLVE,
            session=session,
            staff_user_id=staff.user_id,
            target_type="unanswered",
            target_id=question_id,
            detail="标记为已处理",
            ip=client_ip(request),
        )
    return RedirectResponse("/staff/unanswered", status_code=status.HTTP_303_SEE_OTHER)


# --- JSON API ----------------------------------------------------------------------------------------


@router.get("/api/staff/faq")
def api_faq_list(
    request: Request, q: str = "", category: str = "", staff: StaffContext = Depends(current_staff)
) -> dict[str, Any]:
    """Entries filtered by a text and a category."""
    with sessions(request).begin() as session:
        entries = list_faq(session=session, query=q.strip(), category=category)
        return {"entries": [entry_json(e) for e in entries]}


@router.post("/api/staff/faq")
def api_faq_save(
    request: Request, body: dict[str, Any] = Body(...), staff: StaffContext = Depends(check_csrf)
) -> JSONResponse:
    """Create or update the entry with ``body['key']`` (201 when created)."""
    try:
        data = parse_faq(body)
    except FaqValidationError as exc:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, exc.problems) from exc
    with sessions(request).begin() as session:
        created = find_entry(data.key, session=session) is None
        entry = _save(data, created, staff, client_ip(request), session=session)
        payload = {"created": created, "entry": entry_json(entry)}
    return JSONResponse(payload, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@router.post("/api/staff/faq/{key}/deactivate")
def api_faq_deactivate(request: Request, key: str, staff: StaffContext = Depends(check_csrf)) -> dict[str, Any]:
    """Stop answering with an entry."""
    with sessions(request).begin() as session:
        entry = _set_active(key, False, staff, client_ip(request), session=session)
        if entry is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND_TEXT)
        return {"entry": entry_json(entry)}


@router.get("/api/staff/unanswered")
def api_unanswered(request: Request, staff: StaffContext = Depends(current_staff)) -> dict[str, Any]:
    """Open unanswered questions, most frequent first."""
    rows = _unanswered_rows(request, staff)
    return {
        "questions": [
            {
                "id": r.id,
                "text": r.text,
                "count": r.count,
                "intent": r.intent,
                "first_seen": r.first_seen.isoformat(),
                "last_seen": r.last_seen.isoformat(),
            }
            for r in rows
        ]
    }
