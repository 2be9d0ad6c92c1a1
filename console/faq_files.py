"""Importing and exporting the FAQ as YAML or CSV (the editor's bulk path), with the same validation and audit."""

from __future__ import annotations

from typing import Any

import yaml
from fastapi import (
    APIRouter,
    Depends,
    File,
    HTTPException,
    Request,
    Response,
    UploadFile,
    status,
)

from civil_affairs import audit, clock
from civil_affairs.faq.store import (
    FaqValidationError,
    ImportReport,
    export_csv,
    export_yaml,
    import_records,
    read_csv,
    read_yaml,
)
from console.deps import StaffContext, check_csrf, client_ip, current_staff, render, sessions
from console.faq import IMPORT_FORMATS, MAX_IMPORT_BYTES, NOT_FOUND_TEXT

router = APIRouter()


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
