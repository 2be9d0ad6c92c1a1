"""CSV import from the bureau's exports: encodings, good rows, rejected rows, nothing half-imported."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from civil_affairs.applications.import_csv import CsvFormatError, decode_csv, import_csv
from civil_affairs.applications.records import get_by_number
from civil_affairs.models import Application, ApplicationStatusEvent
from tests.helpers.applications import add_application, fictitious_id

KEY = "test-secret-key"
HEADER = "申请编号,业务类型,申请人姓名,身份证号,联系电话,受理单位,受理日期\n"


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Application))


def _good_rows() -> str:
    return (
        HEADER
        + f"DB202610080021,低保,测试用户一,{fictitious_id(11)},13800138000,测试镇,2026-10-08\n"
        + f"TK-20261008-0003,特困供养,测试用户二,{fictitious_id(12)},,测试街道,2026/10/08\n"
        + f",GL,测试用户三,{fictitious_id(13).lower()},,测试乡,\n"
    )


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_good_rows_are_imported_in_any_encoding(session: Session, encoding: str) -> None:
    before = _count(session)
    report = import_csv(_good_rows().encode(encoding), session=session, secret_key=KEY)
    assert report.ok and report.kind == "applications" and report.created == 3
    assert report.encoding == encoding
    assert _count(session) == before + 3
    first = get_by_number("DB202610080021", session=session)
    assert first.applicant_name == "测试用户一" and first.phone_masked == "138****8000"
    assert first.id_last6 == fictitious_id(11)[-6:] and first.office == "测试镇"
    assert get_by_number("TK202610080003", session=session).type_code == "TK"
    allocated = session.scalars(select(Application).where(Application.applicant_name == "测试用户三")).one()
    assert allocated.number.startswith("GL")


def _rejected_file(extra: str) -> bytes:
    return (_good_rows() + extra).encode("utf-8")


@pytest.mark.parametrize(
    "bad_row, problem",
    [
        (f"DB202610080021,低保,测试用户四,{fictitious_id(14)},,测试镇,\n", "重复"),  # number twice
        (
            f",低保,测试用户五,{fictitious_id(15)[:-1]}0,,测试镇,\n"
            if fictitious_id(15)[-1] != "0"
            else f",低保,测试用户五,{fictitious_id(15)[:-1]}1,,测试镇,\n",
            "校验位",
        ),  # bad checksum
        (f",五保户补助,测试用户六,{fictitious_id(16)},,测试镇,\n", "未知的业务类型"),  # unknown type
        (f",低保,测试用户七,{fictitious_id(17)},,测试镇,2026年10月\n", "无法识别"),  # bad date
    ],
)
def test_one_bad_row_rejects_the_whole_file(session: Session, bad_row: str, problem: str) -> None:
    before = (_count(session), session.scalar(select(func.count()).select_from(ApplicationStatusEvent)))
    report = import_csv(_rejected_file(bad_row), session=session, secret_key=KEY)
    assert not report.ok and report.created == 0
    assert [line for line, _ in report.rejected] == [5]
    assert problem in report.rejected[0][1]
    after = (_count(session), session.scalar(select(func.count()).select_from(ApplicationStatusEvent)))
    assert after == before, "nothing may be half-imported"


def test_gbk_file_with_duplicate_and_malformed_rows_reports_every_one(session: Session) -> None:
    before = _count(session)
    content = (
        HEADER
        + f"DB202610080021,低保,测试用户一,{fictitious_id(11)},,测试镇,\n"
        + f"DB202610080021,低保,测试用户一,{fictitious_id(11)},,测试镇,\n"
        + ",低保,测试用户二,12345,,测试镇,\n"
        + f",养老金,测试用户三,{fictitious_id(13)},,测试镇,\n"
    ).encode("gbk")
    report = import_csv(content, session=session, secret_key=KEY)
    assert report.encoding == "gbk"
    assert [line for line, _ in report.rejected] == [3, 4, 5]
    assert "完全相同" in report.rejected[0][1] and "18位" in report.rejected[1][1]
    assert "养老金" in report.rejected[2][1]
    assert _count(session) == before


def test_number_already_in_the_database_is_a_duplicate(session: Session) -> None:
    existing = add_application(session, secret_key=KEY, sequence=30)
    content = (HEADER + f"{existing.number},低保,测试用户一,{fictitious_id(31)},,测试镇,\n").encode()
    report = import_csv(content, session=session, secret_key=KEY)
    assert report.rejected == [(2, f"申请编号 {existing.number} 已存在，未重复导入")]


def test_status_changes_are_imported_and_listed_for_notices(session: Session) -> None:
    first = add_application(session, secret_key=KEY, sequence=40)
    second = add_application(session, secret_key=KEY, sequence=41)
    content = (
        "申请编号,办理环节,说明,变更时间\n"
        f"{first.number},入户调查,,2026-10-09 09:30\n"
        f"{first.number},需补充材料,请补交户口簿复印件,2026-10-10\n"
        f"{second.number.lower()},审核,,\n"
    ).encode("utf-8-sig")
    report = import_csv(content, session=session, secret_key=KEY)
    assert report.ok and report.kind == "status" and report.status_changes == 3
    assert report.changed_numbers == [first.number, second.number]
    assert first.status == "needs_documents" and first.events[-1].note == "请补交户口簿复印件"
    assert second.status == "review"


def test_status_file_with_unknown_number_or_missing_reason_changes_nothing(session: Session) -> None:
    application = add_application(session, secret_key=KEY, sequence=50)
    content = (
        "申请编号,办理环节,说明\n"
        f"{application.number},审核,\n"
        f"{application.number},未批准,\n"
        "DB209901010001,审核,\n"
        f"{application.number},已归档,\n"
    ).encode()
    report = import_csv(content, session=session, secret_key=KEY)
    assert [line for line, _ in report.rejected] == [3, 4, 5]
    assert application.status == "accepted" and len(application.events) == 1


def test_unreadable_files_are_refused_as_a_whole(session: Session) -> None:
    with pytest.raises(CsvFormatError):
        import_csv(b"", session=session, secret_key=KEY)
    with pytest.raises(CsvFormatError):
        import_csv("姓名,年龄\n张三,3\n".encode(), session=session, secret_key=KEY)
    with pytest.raises(CsvFormatError):
        decode_csv(b"\xff\xfe\xfa\xfb\x80\x81")
