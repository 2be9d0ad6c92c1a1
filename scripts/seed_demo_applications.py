"""Add clearly fictitious demo applications (测试用户一…) to DATABASE_URL, for trying the status lookup.

Every applicant is named 测试用户… and has a fictitious ID number (region code 999999, which no real
place has) with a valid check digit, so the lookup works with the printed last 6. Refuses to run when
APP_ENV=production. Running it twice adds nothing new (looks before it inserts).
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta

from sqlalchemy import select

from civil_affairs.applications.numbers import format_number
from civil_affairs.applications.records import change_status, check_application, create_application
from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.identity import check_digit
from civil_affairs.models import Application
from civil_affairs.models.base import utcnow

FICTITIOUS_REGION = "999999"
NAMES = ("测试用户一", "测试用户二", "测试用户三", "测试用户四", "测试用户五", "测试用户六", "测试用户七")
# (type, path of statuses after 受理, note of the last one)
DEMO = (
    ("低保", ["home_visit"], "工作人员将电话预约入户时间"),
    ("特困供养", ["home_visit", "review", "publicity"], ""),
    ("临时救助", ["home_visit", "review", "approval", "approved"], "救助金将打入您登记的社保卡"),
    ("高龄津贴", ["review"], ""),
    ("残疾人两项补贴", ["home_visit", "needs_documents"], "请补交第二代残疾人证复印件"),
    (
        "孤儿/事实无人抚养儿童基本生活费",
        ["home_visit", "review", "rejected"],
        "经核实不符合事实无人抚养儿童认定条件（演示数据）",
    ),
    ("惠民殡葬补贴", [], ""),
)


def fictitious_id(index: int) -> str:
    """A fictitious ID number with a valid check digit."""
    body = f"{FICTITIOUS_REGION}1950{(index % 12) + 1:02d}{(index % 28) + 1:02d}{index:03d}"
    return body + check_digit(body)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.parse_args(argv)
    settings = Settings.from_env()
    if settings.is_production:
        print("拒绝运行：APP_ENV=production 时不能写入演示数据。", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    sessions = make_session_factory(engine)
    print("演示办件（全部为虚构数据）：")
    with sessions.begin() as session:
        for index, (name, (type_name, path, note)) in enumerate(zip(NAMES, DEMO, strict=False), start=1):
            id_number = fictitious_id(index)
            data = check_application(
                type_name=type_name,
                applicant_name=name,
                id_number=id_number,
                phone=None,
                office="演示乡镇（虚构）",
                secret_key=settings.secret_key,
            )
            existing = session.scalars(
                select(Application).where(Application.id_hash == data.id_hash, Application.type_code == data.type_code)
            ).first()
            if existing is None:
                start = utcnow() - timedelta(days=3 * len(path) + 1)
                existing = create_application(data, session=session, at=start, source="demo", note="演示数据")
                for step, status in enumerate(path, start=1):
                    change_status(
                        existing,
                        status,
                        note if step == len(path) else "",
                        session=session,
                        at=start + timedelta(days=3 * step),
                        source="demo",
                    )
            print(f"  {format_number(existing.number)}  {type_name}  {name}  身份证后6位 {id_number[-6:]}")
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
