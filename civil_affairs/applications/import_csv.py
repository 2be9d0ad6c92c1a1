"""Importing applications and status changes from the bureau's CSV exports, all or nothing.

The bureau's case system exports CSV in UTF-8, UTF-8 with BOM (Excel "CSV UTF-8") or GBK (Excel's
default on Chinese Windows); ``decode_csv`` detects which. Two layouts are read, by their headers
(Chinese or English names):

* applications — 申请编号 (optional: blank allocates one), 业务类型, 申请人姓名, 身份证号, 联系电话
  (optional), 受理单位, 受理日期 (optional), and optionally 办理环节/说明 for the current status;
* status changes — 申请编号, 办理环节, 说明, 变更时间 (optional).

Every row is checked first; if any row is rejected, nothing is written and the report lists each
rejected row with its line number and the problem. Functions take a keyword-only ``session`` and
never commit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from civil_affairs import clock
from civil_affairs.applications.numbers import try_parse_number
from civil_affairs.applications.records import (
    ApplicationError,
    NewApplication,
    change_status,
    check_application,
    create_application,
)
from civil_affairs.applications.types import STATUS_LABELS, STATUSES_NEEDING_NOTE, resolve_status
from civil_affairs.models import Application

MAX_ROWS = 20_000
HEADER_ALIASES = {
    "number": ("申请编号", "编号", "number", "application_number"),
    "type": ("业务类型", "类型", "type"),
    "applicant_name": ("申请人姓名", "申请人", "姓名", "applicant_name", "name"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "id_number"),
    "phone": ("联系电话", "电话", "手机号", "phone"),
    "office": ("受理单位", "受理乡镇", "受理乡镇（街道）", "office"),
    "accepted_at": ("受理日期", "受理时间", "accepted_at"),
    "status": ("办理环节", "状态", "办理状态", "status"),
    "note": ("说明", "备注", "原因", "note"),
    "at": ("变更时间", "时间", "日期", "at"),
}
_TIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
    "%Y%m%d",
)


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (encoding, headers); the message is Chinese for staff."""


@dataclass
class ImportReport:
    """What an import did, or (when ``rejected`` is not empty) why it did nothing."""

    kind: str = ""
    encoding: str = ""
    rows: int = 0
    created: int = 0
    status_changes: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    changed_numbers: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.rejected


def decode_csv(content: bytes) -> tuple[str, str]:
    """The text of an uploaded CSV and the encoding it was in (utf-8-sig, utf-8 or gbk)."""
    if content.startswith(b"\xef\xbb\xbf"):
        return content[3:].decode("utf-8"), "utf-8-sig"
    try:
        return content.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        # GB18030 is a superset of GBK, so rare characters in names (e.g. 䶮) still decode.
        return content.decode("gb18030"), "gbk"
    except UnicodeDecodeError as exc:
        raise CsvFormatError("无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV") from exc


def _columns(header: list[str]) -> dict[str, int]:
    index: dict[str, int] = {}
    for position, name in enumerate(header):
        name = name.strip().lstrip("\ufeff")
        for key, aliases in HEADER_ALIASES.items():
            if name in aliases and key not in index:
                index[key] = position
    return index


def parse_time(text: str) -> datetime | None:
    """A Beijing date/time from the file as naive UTC; None for blank; ValueError if unreadable."""
    text = (text or "").strip()
    if not text:
        return None
    for fmt in _TIME_FORMATS:
        try:
            return clock.to_utc(datetime.strptime(text, fmt))
        except ValueError:
            continue
    raise ValueError(f"时间“{text}”无法识别，请写成 2026-10-08 或 2026-10-08 09:30")


@dataclass
class _PlannedApplication:
    line: int
    data: NewApplication
    number: str | None
    accepted_at: datetime | None
    status: str | None
    note: str


@dataclass
class _PlannedChange:
    line: int
    number: str
    status: str
    note: str
    at: datetime | None


def read_rows(text: str) -> tuple[dict[str, int], list[tuple[int, list[str]]]]:
    """Header columns and (line number, cells) of every non-blank data row."""
    reader = csv.reader(io.StringIO(text))
    try:
        header = next(reader)
    except StopIteration as exc:
        raise CsvFormatError("文件是空的") from exc
    columns = _columns(header)
    rows: list[tuple[int, list[str]]] = []
    for cells in reader:
        if any(c.strip() for c in cells):
            rows.append((reader.line_num, cells))
        if len(rows) > MAX_ROWS:
            raise CsvFormatError(f"一次最多导入 {MAX_ROWS} 行")
    return columns, rows


def import_csv(content: bytes, *, session: Session, secret_key: str, staff_user_id: int | None = None) -> ImportReport:
    """Check every row of an uploaded CSV, then import all of it or nothing.

    Args:
        content: the uploaded bytes (UTF-8, UTF-8 with BOM or GBK).
        session: the caller's transaction; nothing is added to it when any row is rejected.
        secret_key: the key for ID number hashes.
        staff_user_id: who imported, for the status history.

    Returns:
        The report; ``changed_numbers`` lists applications whose subscribers should be told.

    Raises:
        CsvFormatError: the file cannot be read at all (encoding, empty, unknown headers).
    """
    text, encoding = decode_csv(content)
    columns, rows = read_rows(text)
    report = ImportReport(encoding=encoding, rows=len(rows))
    if "id_number" in columns:
        report.kind = "applications"
        missing = [k for k in ("type", "applicant_name", "id_number") if k not in columns]
    elif "status" in columns:
        report.kind = "status"
        missing = [k for k in ("number", "status") if k not in columns]
    else:
        raise CsvFormatError(
            "表头不对：申请导入须有“业务类型、申请人姓名、身份证号”列，进度导入须有“申请编号、办理环节”列"
        )
    if missing:
        names = "、".join(HEADER_ALIASES[k][0] for k in missing)
        raise CsvFormatError(f"缺少列：{names}")

    def cell(cells: list[str], key: str) -> str:
        position = columns.get(key)
        return cells[position].strip() if position is not None and position < len(cells) else ""

    planned_applications: list[_PlannedApplication] = []
    planned_changes: list[_PlannedChange] = []
    if report.kind == "applications":
        planned_applications = _check_applications(rows, cell, report, session=session, secret_key=secret_key)
    else:
        planned_changes = _check_changes(rows, cell, report, session=session)
    if report.rejected:
        return report
    # Every row was checked above; a database error while writing raises, and the caller's
    # transaction then rolls back every row of the file.
    if report.kind == "applications":
        for item in planned_applications:
            application = create_application(
                item.data,
                session=session,
                staff_user_id=staff_user_id,
                number=item.number,
                at=item.accepted_at,
                source="import",
            )
            report.created += 1
            if item.status and item.status != "accepted":
                change_status(
                    application,
                    item.status,
                    item.note,
                    session=session,
                    staff_user_id=staff_user_id,
                    at=item.accepted_at,
                    source="import",
                )
                report.status_changes += 1
    else:
        by_number = {
            a.number: a
            for a in session.scalars(
                select(Application).where(Application.number.in_({c.number for c in planned_changes}))
            )
        }
        for change in planned_changes:
            change_status(
                by_number[change.number],
                change.status,
                change.note,
                session=session,
                staff_user_id=staff_user_id,
                at=change.at,
                source="import",
            )
            report.status_changes += 1
            if change.number not in report.changed_numbers:
                report.changed_numbers.append(change.number)
    return report


def _check_status_cells(status_text: str, note: str) -> str:
    status = resolve_status(status_text)
    if status is None:
        raise ApplicationError(f"办理环节“{status_text}”不认识，可用：{'、'.join(STATUS_LABELS.values())}")
    if status in STATUSES_NEEDING_NOTE and not note:
        raise ApplicationError(f"“{STATUS_LABELS[status]}”须在“说明”列写明{STATUSES_NEEDING_NOTE[status]}")
    return status


def _check_applications(
    rows: list[tuple[int, list[str]]],
    cell: Callable[[list[str], str], str],
    report: ImportReport,
    *,
    session: Session,
    secret_key: str,
) -> list[_PlannedApplication]:
    planned: list[_PlannedApplication] = []
    seen: dict[str, int] = {}
    seen_rows: dict[tuple[str, ...], int] = {}
    for line, cells in rows:
        try:
            same = tuple(c.strip() for c in cells)
            if same in seen_rows:
                raise ApplicationError(f"与第 {seen_rows[same]} 行完全相同")
            seen_rows[same] = line
            data = check_application(
                type_name=cell(cells, "type"),
                applicant_name=cell(cells, "applicant_name"),
                id_number=cell(cells, "id_number"),
                phone=cell(cells, "phone"),
                office=cell(cells, "office"),
                secret_key=secret_key,
            )
            number = None
            if cell(cells, "number"):
                number = try_parse_number(cell(cells, "number"))
                if number is None:
                    raise ApplicationError(f"申请编号“{cell(cells, 'number')}”格式不对")
                if number[:2] != data.type_code:
                    raise ApplicationError(f"申请编号 {number} 与业务类型不符（应以 {data.type_code} 开头）")
                if number in seen:
                    raise ApplicationError(f"申请编号 {number} 与第 {seen[number]} 行重复")
                seen[number] = line
            accepted_at = parse_time(cell(cells, "accepted_at"))
            status_text, note = cell(cells, "status"), cell(cells, "note")
            status = _check_status_cells(status_text, note) if status_text else None
            planned.append(_PlannedApplication(line, data, number, accepted_at, status, note))
        except (ApplicationError, ValueError) as exc:
            report.rejected.append((line, str(exc)))
    numbers = [p.number for p in planned if p.number]
    if numbers:
        existing = set(session.scalars(select(Application.number).where(Application.number.in_(numbers))))
        for item in planned:
            if item.number in existing:
                report.rejected.append((item.line, f"申请编号 {item.number} 已存在，未重复导入"))
    report.rejected.sort()
    return planned


def _check_changes(
    rows: list[tuple[int, list[str]]],
    cell: Callable[[list[str], str], str],
    report: ImportReport,
    *,
    session: Session,
) -> list[_PlannedChange]:
    planned: list[_PlannedChange] = []
    for line, cells in rows:
        try:
            number = try_parse_number(cell(cells, "number"))
            if number is None:
                raise ApplicationError(f"申请编号“{cell(cells, 'number')}”格式不对")
            note = cell(cells, "note")
            status = _check_status_cells(cell(cells, "status"), note)
            planned.append(_PlannedChange(line, number, status, note, parse_time(cell(cells, "at"))))
        except (ApplicationError, ValueError) as exc:
            report.rejected.append((line, str(exc)))
    numbers = {c.number for c in planned}
    if numbers:
        existing = set(session.scalars(select(Application.number).where(Application.number.in_(numbers))))
        for change in planned:
            if change.number not in existing:
                report.rejected.append((change.line, f"没有申请编号为 {change.number} 的申请"))
    report.rejected.sort()
    return planned


__all__ = ["CsvFormatError", "ImportReport", "decode_csv", "import_csv", "parse_time"]
