"""Purge transcripts and Rasa's conversation events older than RETENTION_DAYS (default 180).

    PYTHONPATH=. .venv/bin/python scripts/purge_old_data.py [--days 180]

The console runs the same job every RETENTION_INTERVAL_SECONDS; running this script at the same
time is harmless (see civil_affairs/ops/retention.py).
"""

from __future__ import annotations

import argparse
import sys

from civil_affairs.config import ConfigError, Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.ops.retention import run_retention


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="删除超过保存期限的聊天记录和对话事件")
    parser.add_argument("--days", type=int, default=None, help="keep this many days (default: RETENTION_DAYS)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
    days = args.days if args.days is not None else settings.retention_days
    if days < 1:
        print("--days must be at least 1", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        report = run_retention(make_session_factory(engine), days)
    finally:
        engine.dispose()
    print(
        f"kept {days} days; removed {report.transcript_lines} transcript lines, "
        f"{report.tracker_events} conversation events, {report.telegram_updates} Telegram update records"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
