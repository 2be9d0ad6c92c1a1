"""Apply migrations and load seed data into DATABASE_URL (run by `make run` before the service)."""

from __future__ import annotations

from civil_affairs.config import Settings
from civil_affairs.db import make_engine, make_session_factory
from civil_affairs.setup_db import load_booking_seed, load_faq_seed, upgrade_database


def main() -> None:
    settings = Settings.from_env()
    upgrade_database(settings.database_url)
    engine = make_engine(settings.database_url)
    with make_session_factory(engine).begin() as session:
        report = load_faq_seed(session=session)
        load_booking_seed(session=session)
    engine.dispose()
    print(f"database ready ({settings.database_url.split('://')[0]}); FAQ seed: {report.created} new entries")


if __name__ == "__main__":
    main()
