"""Importing applications and status changes from a CSV file (dry run first, then all or nothing), audited."""

from __future__ import annotations

from fastapi import (
    APIRouter,
    BackgroundTasks,
    Depends,
    File,
    Request,
    Response,
    UploadFile,
    status,
)

from civil_affairs import audit
from civil_affairs.applications.import_csv import CsvFormatError, ImportReport, import_csv
from console.applications import MAX_IMPORT_BYTES, TARGET, page_context, schedule_notice
from console.deps import StaffContext, check_csrf, client_ip, current_staff, render, sessions

router = APIRouter()


@router.get("/staff/applications/import", include_in_schema=False)
def applications_import_page(request: Request, staff: StaffContext = Depends(current_staff)) -> Response:
    """The upload form for the bureau's CSV exports."""
    return render(request, "staff/applications_import.html", page_context(report=None, error=""), staff=staff)


def import_file(
    request: Request, filename: str, content: bytes, staff: StaffContext
) -> tuple[ImportReport | None, str]:
    """Import one file all-or-nothing, audited either way."""
    report: ImportReport | None = None
    error = ""
    with sessions(request).begin() as session:
        try:
            if len(content) > MAX_IMPORT_BYTES:
                raise CsvFormatError(f"文件太大（上限 {MAX_IMPORT_BYTES // 1024 // 1024} MB）")
            report = import_csv(
                content, session=session, secret_key=request.app.state.settings.secret_key, staff_user_id=staff.user_id
            )
        except CsvFormatError as exc:
            error = str(exc)
        if report is None:
            detail = f"{filename}：{error}，未导入"
        elif report.rejected:
            detail = f"{filename}（{report.encoding}）：{len(report.rejected)} 行有错误，整个文件未导入"
        else:
            detail = (
                f"{filename}（{report.encoding}）：新增申请 {report.created} 件，进度变更 {report.status_changes} 条"
            )
        audit.record(
            audit.APPLICATION_IMPORT,
            session=session,
            staff_user_id=staff.user_id,
            target_type=TARGET,
            detail=detail,
            ip=client_ip(request),
        )
    return report, error


@router.post("/staff/applications/import", include_in_schema=False)
def applications_import_submit(
    request: Request, tasks: BackgroundTasks, file: UploadFile = File(...), staff: StaffContext = Depends(check_csrf)
) -> Response:
    """Import a CSV and show the report, row by row for rejected rows."""
    filename = file.filename or ""
    report, error = import_file(request, filename, file.file.read(MAX_IMPORT_BYTES + 1), staff)
    if report is not None and report.ok:
        schedule_notice(request, tasks, report.changed_numbers)
    code = status.HTTP_200_OK if report is not None and report.ok else status.HTTP_422_UNPROCESSABLE_ENTITY
    return render(
        request,
        "staff/applications_import.html",
        page_context(report=report, error=error, filename=filename),
        staff=staff,
        status_code=code,
    )
