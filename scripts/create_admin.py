"""Create a console account (by default the first admin) in DATABASE_URL.

    PYTHONPATH=. .venv/bin/python scripts/create_admin.py --username admin     # prompts twice
    printf '%s\\n' "$PW" | PYTHONPATH=. .venv/bin/python scripts/create_admin.py \\
        --username admin --password-stdin

Run after `scripts/init_db.py` (or `make run`) has migrated the database. An existing account of
the same name is left unchanged, so running it again is harmless.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO

from civil_affairs import audit
from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.models.staff import ROLES
from civil_affairs.staff_accounts import StaffAccountError, ensure_user


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="创建控制台工作人员账号（默认：管理员）")
    parser.add_argument("--username", required=True, help="登录用户名（字母、数字或 _ . -）")
    parser.add_argument("--display-name", default="", help="页面上显示的姓名")
    parser.add_argument("--role", choices=ROLES, default="admin", help="角色，默认 admin")
    parser.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码（第一行），不提示")
    return parser


def _read_password(from_stdin: bool, stdin: TextIO) -> str:
    """The new password from stdin's first line, or typed twice at a hidden prompt."""
    if from_stdin:
        return stdin.readline().rstrip("\r\n")
    password = getpass.getpass("密码：")
    if getpass.getpass("再输一次：") != password:
        raise StaffAccountError("两次输入的密码不一致")
    return password


def main(
    argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, stdin: TextIO | None = None
) -> int:
    """Create the account; returns the exit status (0 also when it already existed)."""
    args = _parser().parse_args(argv)
    settings = Settings.from_env(environ)
    try:
        password = _read_password(args.password_stdin, stdin or sys.stdin)
    except StaffAccountError as exc:
        print(f"未创建：{exc}", file=sys.stderr)
        return 1
    engine = make_engine(settings.database_url)
    try:
        with make_session_factory(engine).begin() as session:
            user, created = ensure_user(
                args.username, password, session=session, role=args.role, display_name=args.display_name
            )
            if created:
                audit.record(
                    audit.STAFF_CREATE,
                    session=session,
                    staff_user_id=user.id,
                    target_type="staff_user",
                    target_id=user.username,
                    detail=f"由 scripts/create_admin.py 创建，角色 {user.role}",
                )
    except StaffAccountError as exc:
        print(f"未创建：{exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if created:
        print(f"已创建账号 {user.username}（{user.role}）")
    else:
        print(f"账号 {user.username} 已存在，未做修改")
    return 0


if __name__ == "__main__":
    sys.exit(main())
