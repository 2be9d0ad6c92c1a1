"""Apply migrations and load seed data into DATABASE_URL (`make run` does this before the service)."""

from __future__ import annotations

from civil_affairs.config import Settings
from civil_affairs.setup_db import prepare_database


def main() -> None:
    settings = Settings.from_env()
    report = prepare_database(settings.database_url)
    print(f"database ready ({settings.database_url.split('://')[0]}); FAQ seed: {report.created} new entries")


if __name__ == "__main__":
    main()
