"""Settings of every process, read once from the environment into one immutable object.

The environment wins over a ``.env`` file in the project root, which wins over the defaults below.
Each process builds ``Settings.from_env()`` in its entry point and passes the object on; nothing
reads ``os.environ`` at import time.
"""

from __future__ import annotations

import builtins
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path

from civil_affairs.office_hours import OfficeHours, OfficeHoursError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Telegram's rule for a webhook's secret_token.
_WEBHOOK_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity where the platform tells)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - no affinity outside Linux
        return max(1, os.cpu_count() or 1)


# Each FAQ fit worker holds its own copy of the solver's problem (about 100 MB with 500 entries).
MAX_DEFAULT_FAQ_FIT_PROCESSES = 4


def default_faq_fit_processes() -> int:
    """FAQ_FIT_PROCESSES when unset: the usable cores, at most ``MAX_DEFAULT_FAQ_FIT_PROCESSES``."""
    return min(usable_cores(), MAX_DEFAULT_FAQ_FIT_PROCESSES)


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable."""


def _read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines of a .env file (comments and blank lines ignored)."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        values[key.strip()] = value.strip().strip('"').strip("'")
    return values


class _Env:
    """Typed access to one merged mapping of settings, naming the key on every error."""

    def __init__(self, values: Mapping[builtins.str, builtins.str]) -> None:
        self._values = values

    def str(self, key: builtins.str, default: builtins.str) -> builtins.str:
        value = self._values.get(key)
        return default if value is None or value == "" else value

    def int(self, key: builtins.str, default: int) -> int:
        raw = self._values.get(key)
        if raw is None or raw == "":
            return default
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigError(f"{key} must be a whole number, got {raw!r}") from exc

    def float(self, key: builtins.str, default: float) -> float:
        raw = self._values.get(key)
        if raw is None or raw == "":
            return default
        try:
            return float(raw)
        except ValueError as exc:
            raise ConfigError(f"{key} must be a number, got {raw!r}") from exc

    def urls(self, key: builtins.str, default: list[builtins.str]) -> list[builtins.str]:
        """A comma-separated list of http(s) URLs, without trailing slashes."""
        raw = self._values.get(key)
        if raw is None or raw.strip() == "":
            return default
        urls = [part.strip().rstrip("/") for part in raw.split(",") if part.strip()]
        for url in urls:
            if not url.startswith(("http://", "https://")):
                raise ConfigError(f"{key} must list http:// or https:// URLs separated by commas, got {url!r}")
        return urls

    def names(
        self, key: builtins.str, default: tuple[builtins.str, ...], choices: tuple[builtins.str, ...]
    ) -> tuple[builtins.str, ...]:
        """A comma-separated subset of ``choices``."""
        raw = self._values.get(key)
        if raw is None or raw.strip() == "":
            return default
        names = tuple(part.strip() for part in raw.split(",") if part.strip())
        unknown = [name for name in names if name not in choices]
        if unknown:
            raise ConfigError(f"{key} must list some of {', '.join(choices)}, got {', '.join(unknown)}")
        return names

    def choice(self, key: builtins.str, default: builtins.str, choices: tuple[builtins.str, ...]) -> builtins.str:
        value = self.str(key, default)
        if value not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {value!r}")
        return value


@dataclass(frozen=True)
class BureauContacts:
    """Where residents confirm local figures; empty fields are never invented, only left out."""

    name: str = "区民政局"
    region: str = "上饶市/广丰区"
    phone: str = ""
    address: str = ""
    hours: str = ""
    hotline: str = "12345"

    def confirm_line(self) -> str:
        """One sentence telling the resident where to confirm a local figure."""
        parts = [f"可咨询户籍所在乡镇（街道）社会救助窗口或{self.name}"]
        if self.phone:
            parts[0] += f"（电话 {self.phone}）"
        parts.append(f"也可拨打 {self.hotline} 政务服务便民热线")
        return "，".join(parts) + "。"


def _rate_limits(raw: str) -> tuple[tuple[int, float], ...]:
    """``15/10,60/60`` → ((15, 10.0), (60, 60.0)): at most 15 messages in 10 s and 60 in 60 s."""
    limits = []
    for part in raw.split(","):
        count, _, seconds = part.strip().partition("/")
        try:
            limit = (int(count), float(seconds))
        except ValueError as exc:
            raise ConfigError(f"CHAT_RATE_LIMIT must look like 15/10,60/60, got {raw!r}") from exc
        if limit[0] < 1 or limit[1] <= 0:
            raise ConfigError(f"CHAT_RATE_LIMIT must look like 15/10,60/60, got {raw!r}")
        limits.append(limit)
    return tuple(limits)


@dataclass(frozen=True)
class Settings:
    """Every setting of the service; see the README's configuration table for meanings."""

    app_env: str = "development"
    data_dir: Path = PROJECT_ROOT / "data"
    database_url: str = ""
    secret_key: str = field(default="dev-only-secret-change-me", repr=False)
    log_level: str = "INFO"
    log_format: str = "text"
    process_name: str = ""

    rasa_url: str = "http://127.0.0.1:5005"
    rasa_urls: tuple[str, ...] = ("http://127.0.0.1:5005",)
    rasa_port: int = 5005
    rasa_replicas: int = 1
    action_port: int = 5055
    action_replicas: int = 1
    action_replica_urls: tuple[str, ...] = ("http://127.0.0.1:5055/webhook",)
    action_server_url: str = "http://127.0.0.1:5055/webhook"
    rasa_timeout_seconds: float = 4.0
    # Transport security of the internal servers (see README "Security of the internal servers").
    rasa_host: str = "127.0.0.1"
    action_host: str = "127.0.0.1"
    rasa_auth_token: str = field(default="", repr=False)
    action_server_token: str = field(default="", repr=False)
    rasa_rest_token: str = field(default="", repr=False)  # the channels' token for Rasa's REST channel
    model_dir: Path = PROJECT_ROOT / "models"

    console_host: str = "127.0.0.1"
    console_port: int = 8000
    console_workers: int = 1
    run_roles: tuple[str, ...] = ("actions", "rasa", "console", "bot")
    restart_backoff_max_seconds: float = 30.0
    restart_max_fast_failures: int = 5
    health_check_interval_seconds: float = 10.0
    metrics_port: int = 0
    retention_days: int = 180
    retention_interval_seconds: float = 3600.0
    redis_url: str = ""
    redis_key_prefix: str = "civil-affairs"
    public_base_url: str = "http://127.0.0.1:8000"
    # Reverse proxies whose X-Forwarded-Proto/-For the console believes (none by default).
    trusted_proxies: tuple[str, ...] = ()
    # Messages per chat: (count, seconds) windows, e.g. CHAT_RATE_LIMIT=15/10,60/60.
    chat_rate_limit: tuple[tuple[int, float], ...] = ((15, 10.0), (60, 60.0))

    telegram_bot_token: str = field(default="", repr=False)
    telegram_api_base_url: str = ""
    telegram_mode: str = "polling"
    telegram_webhook_url: str = ""
    telegram_webhook_listen: str = "127.0.0.1"
    telegram_webhook_port: int = 8443
    telegram_webhook_secret: str = field(default="", repr=False)
    staff_telegram_chat_id: str = ""
    staff_admin_username: str = ""
    staff_admin_password: str = field(default="", repr=False)
    office_hours: str = "mon-fri 08:30-12:00,14:30-17:30"
    timezone: str = "Asia/Shanghai"

    booking_min_days_ahead: int = 1
    booking_max_days_ahead: int = 15
    booking_same_day_cutoff: str = "11:00"
    booking_reminder_time: str = "10:00"
    booking_no_show_limit: int = 2
    booking_no_show_lookback_days: int = 180
    booking_no_show_block_days: int = 30
    booking_reminders: bool = True
    booking_reminder_interval_seconds: float = 60.0
    # Worker processes a full FAQ ranker fit with hundreds of entries is split over (1: none).
    faq_fit_processes: int = field(default_factory=default_faq_fit_processes)
    bureau: BureauContacts = field(default_factory=BureauContacts)

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, dotenv: Path | None = PROJECT_ROOT / ".env"
    ) -> Settings:
        """Build settings from ``environ`` (default: the process environment) over ``.env``."""
        merged: dict[str, str] = _read_dotenv(dotenv) if dotenv else {}
        merged.update(os.environ if environ is None else environ)
        env = _Env(merged)
        data_dir = Path(env.str("DATA_DIR", str(PROJECT_ROOT / "data")))
        rasa_port = env.int("RASA_PORT", 5005)
        action_port = env.int("ACTION_PORT", 5055)
        rasa_replicas = env.int("RASA_REPLICAS", 1)
        action_replicas = env.int("ACTION_REPLICAS", 1)
        rasa_urls = env.urls("RASA_URL", [f"http://127.0.0.1:{rasa_port + i}" for i in range(rasa_replicas)])
        action_replica_urls = env.urls(
            "ACTION_REPLICA_URLS", [f"http://127.0.0.1:{action_port + i}/webhook" for i in range(action_replicas)]
        )
        # Rasa calls the first; with several, each Rasa process spreads its calls over all of them
        # (civil_affairs.ops.action_failover).
        default_action_url = action_replica_urls[0]
        console_port = env.int("CONSOLE_PORT", 8000)
        console_host = env.str("CONSOLE_HOST", "127.0.0.1")
        settings = cls(
            app_env=env.choice("APP_ENV", "development", ("development", "test", "production")),
            data_dir=data_dir,
            database_url=env.str("DATABASE_URL", f"sqlite:///{data_dir / 'civil_affairs.db'}"),
            secret_key=env.str("SECRET_KEY", cls.secret_key),
            log_level=env.str("LOG_LEVEL", "INFO").upper(),
            log_format=env.choice("LOG_FORMAT", "text", ("text", "json")),
            process_name=env.str("PROCESS_NAME", ""),
            rasa_url=rasa_urls[0],
            rasa_urls=tuple(rasa_urls),
            rasa_port=rasa_port,
            rasa_replicas=rasa_replicas,
            action_port=action_port,
            action_replicas=action_replicas,
            action_replica_urls=tuple(action_replica_urls),
            action_server_url=env.str("ACTION_SERVER_URL", default_action_url),
            rasa_timeout_seconds=env.float("RASA_TIMEOUT_SECONDS", 4.0),
            rasa_host=env.str("RASA_HOST", cls.rasa_host),
            action_host=env.str("ACTION_HOST", cls.action_host),
            rasa_auth_token=env.str("RASA_AUTH_TOKEN", ""),
            action_server_token=env.str("ACTION_SERVER_TOKEN", ""),
            rasa_rest_token=env.str("RASA_REST_TOKEN", ""),
            model_dir=Path(env.str("MODEL_DIR", str(PROJECT_ROOT / "models"))),
            console_host=console_host,
            console_port=console_port,
            console_workers=env.int("CONSOLE_WORKERS", 1),
            run_roles=env.names("RUN_ROLES", cls.run_roles, ("actions", "rasa", "console", "bot")),
            restart_backoff_max_seconds=env.float("RESTART_BACKOFF_MAX_SECONDS", cls.restart_backoff_max_seconds),
            restart_max_fast_failures=env.int("RESTART_MAX_FAST_FAILURES", cls.restart_max_fast_failures),
            health_check_interval_seconds=env.float("HEALTH_CHECK_INTERVAL_SECONDS", cls.health_check_interval_seconds),
            metrics_port=env.int("METRICS_PORT", 0),
            retention_days=env.int("RETENTION_DAYS", cls.retention_days),
            retention_interval_seconds=env.float("RETENTION_INTERVAL_SECONDS", cls.retention_interval_seconds),
            redis_url=env.str("REDIS_URL", ""),
            redis_key_prefix=env.str("REDIS_KEY_PREFIX", cls.redis_key_prefix),
            public_base_url=env.str("PUBLIC_BASE_URL", f"http://127.0.0.1:{console_port}").rstrip("/"),
            trusted_proxies=tuple(p.strip() for p in env.str("TRUSTED_PROXIES", "").split(",") if p.strip()),
            chat_rate_limit=_rate_limits(env.str("CHAT_RATE_LIMIT", "15/10,60/60")),
            telegram_bot_token=env.str("TELEGRAM_BOT_TOKEN", ""),
            telegram_api_base_url=env.str("TELEGRAM_API_BASE_URL", ""),
            telegram_mode=env.choice("TELEGRAM_MODE", "polling", ("polling", "webhook")),
            telegram_webhook_url=env.str("TELEGRAM_WEBHOOK_URL", ""),
            telegram_webhook_listen=env.str("TELEGRAM_WEBHOOK_LISTEN", cls.telegram_webhook_listen),
            telegram_webhook_port=env.int("TELEGRAM_WEBHOOK_PORT", 8443),
            telegram_webhook_secret=env.str("TELEGRAM_WEBHOOK_SECRET", ""),
            staff_telegram_chat_id=env.str("STAFF_TELEGRAM_CHAT_ID", ""),
            staff_admin_username=env.str("STAFF_ADMIN_USERNAME", ""),
            staff_admin_password=env.str("STAFF_ADMIN_PASSWORD", ""),
            office_hours=env.str("OFFICE_HOURS", cls.office_hours),
            timezone=env.str("TIMEZONE", cls.timezone),
            booking_min_days_ahead=env.int("BOOKING_MIN_DAYS_AHEAD", cls.booking_min_days_ahead),
            booking_max_days_ahead=env.int("BOOKING_MAX_DAYS_AHEAD", cls.booking_max_days_ahead),
            booking_same_day_cutoff=env.str("BOOKING_SAME_DAY_CUTOFF", cls.booking_same_day_cutoff),
            booking_reminder_time=env.str("BOOKING_REMINDER_TIME", cls.booking_reminder_time),
            booking_no_show_limit=env.int("BOOKING_NO_SHOW_LIMIT", cls.booking_no_show_limit),
            booking_no_show_lookback_days=env.int("BOOKING_NO_SHOW_LOOKBACK_DAYS", cls.booking_no_show_lookback_days),
            booking_no_show_block_days=env.int("BOOKING_NO_SHOW_BLOCK_DAYS", cls.booking_no_show_block_days),
            booking_reminders=env.choice("BOOKING_REMINDERS", "on", ("on", "off")) == "on",
            booking_reminder_interval_seconds=env.float(
                "BOOKING_REMINDER_INTERVAL_SECONDS", cls.booking_reminder_interval_seconds
            ),
            faq_fit_processes=env.int("FAQ_FIT_PROCESSES", default_faq_fit_processes()),
            bureau=BureauContacts(
                name=env.str("BUREAU_NAME", "区民政局"),
                region=env.str("BUREAU_REGION", "上饶市/广丰区"),
                phone=env.str("BUREAU_PHONE", ""),
                address=env.str("BUREAU_ADDRESS", ""),
                hours=env.str("BUREAU_HOURS", ""),
                hotline=env.str("BUREAU_HOTLINE", "12345"),
            ),
        )
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse settings that would be unsafe in production or cannot be read."""

        try:
            OfficeHours.parse(self.office_hours)
        except OfficeHoursError as exc:
            raise ConfigError(str(exc)) from exc
        for key, value in (
            ("BOOKING_SAME_DAY_CUTOFF", self.booking_same_day_cutoff),
            ("BOOKING_REMINDER_TIME", self.booking_reminder_time),
        ):
            try:
                time.fromisoformat(value)
            except ValueError as exc:
                raise ConfigError(f"{key} must be a time like 10:00, got {value!r}") from exc
        if not 0 <= self.booking_min_days_ahead <= self.booking_max_days_ahead:
            raise ConfigError("BOOKING_MIN_DAYS_AHEAD must be between 0 and BOOKING_MAX_DAYS_AHEAD")
        if self.staff_admin_username and len(self.staff_admin_password) < 10:
            raise ConfigError("STAFF_ADMIN_PASSWORD must have at least 10 characters")
        if self.is_production and self.secret_key == Settings.secret_key:
            raise ConfigError("SECRET_KEY must be set to a random value when APP_ENV=production")
        for key, count in (
            ("RASA_REPLICAS", self.rasa_replicas),
            ("ACTION_REPLICAS", self.action_replicas),
            ("CONSOLE_WORKERS", self.console_workers),
            ("FAQ_FIT_PROCESSES", self.faq_fit_processes),
        ):
            if count < 1:
                raise ConfigError(f"{key} must be at least 1, got {count}")
        if self.retention_days < 1:
            raise ConfigError(f"RETENTION_DAYS must be at least 1, got {self.retention_days}")
        if self.rasa_replicas > 1 and not self.redis_url:
            raise ConfigError("RASA_REPLICAS above 1 needs REDIS_URL: the replicas share conversation locks in Redis")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix://, got {self.redis_url!r}")
        if self.telegram_mode == "webhook" and self.telegram_bot_token and not self.telegram_webhook_url:
            raise ConfigError("TELEGRAM_WEBHOOK_URL is required when TELEGRAM_MODE=webhook")
        if self.telegram_webhook_secret and not _WEBHOOK_SECRET_RE.fullmatch(self.telegram_webhook_secret):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be 1-256 characters A-Z, a-z, 0-9, _ or - "
                "(Telegram's rule for secret_token)"
            )
        if (
            self.is_production
            and self.telegram_mode == "webhook"
            and self.telegram_bot_token
            and not self.telegram_webhook_secret
        ):
            raise ConfigError(
                "TELEGRAM_WEBHOOK_SECRET must be set when APP_ENV=production and "
                "TELEGRAM_MODE=webhook: without it anyone who finds the URL can post updates"
            )
        for key, token in (
            ("RASA_AUTH_TOKEN", self.rasa_auth_token),
            ("ACTION_SERVER_TOKEN", self.action_server_token),
            ("RASA_REST_TOKEN", self.rasa_rest_token),
        ):
            if token and len(token) < 16:
                raise ConfigError(
                    f"{key} must have at least 16 characters (or be left unset: the launcher "
                    "then generates one per start)"
                )
