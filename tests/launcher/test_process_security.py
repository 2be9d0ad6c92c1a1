"""The launcher's command lines: internal servers on loopback, tokens shared but never on a command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from civil_affairs.config import ConfigError, Settings
from civil_affairs.ops.run_files import rasa_token_path, read_rasa_token, read_rest_token, rest_token_path
from launcher import processes
from servers.rasa_run import resolve_secret_args

MODEL = Path("/models/m.tar.gz")


def settings_for(**environ: str) -> Settings:
    return Settings.from_env({"APP_ENV": "test", "TELEGRAM_BOT_TOKEN": "123456:" + "x" * 35, **environ}, dotenv=None)


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def test_rasa_and_action_servers_listen_on_loopback_by_default() -> None:
    specs = processes.all_processes(settings_for(), MODEL)
    rasa = next(s for s in specs if s.role == "rasa")
    actions = next(s for s in specs if s.role == "actions")
    assert option(rasa.argv, "--interface") == "127.0.0.1"
    assert option(actions.argv, "--host") == "127.0.0.1"
    assert "servers.action_server" in actions.argv  # not rasa-sdk's CLI, which binds 0.0.0.0


def test_hosts_are_configurable_and_readiness_follows_them() -> None:
    specs = processes.all_processes(settings_for(RASA_HOST="10.0.0.5", ACTION_HOST="10.0.0.6"), MODEL)
    rasa = next(s for s in specs if s.role == "rasa")
    actions = next(s for s in specs if s.role == "actions")
    assert option(rasa.argv, "--interface") == "10.0.0.5" and rasa.ready_url.startswith("http://10.0.0.5:")
    assert option(actions.argv, "--host") == "10.0.0.6" and actions.ready_url.startswith("http://10.0.0.6:")


def test_rasa_api_needs_a_token_that_is_generated_per_start_and_shared_by_every_process() -> None:
    specs = processes.all_processes(
        settings_for(RASA_REPLICAS="2", REDIS_URL="redis://127.0.0.1:6379/1", ACTION_REPLICAS="2"), MODEL
    )
    rasas = [s for s in specs if s.role == "rasa"]
    token = rasas[0].env["RASA_AUTH_TOKEN"]
    action_token = rasas[0].env["ACTION_SERVER_TOKEN"]
    assert len(token) >= 32 and len(action_token) >= 32 and token != action_token
    internal = [s for s in specs if s.role in ("rasa", "actions")]
    assert {s.env["RASA_AUTH_TOKEN"] for s in internal} == {token}
    assert {s.env["ACTION_SERVER_TOKEN"] for s in internal} == {action_token}
    for channel in (s for s in specs if s.role in ("console", "bot")):  # they never need them
        assert "RASA_AUTH_TOKEN" not in channel.env and "ACTION_SERVER_TOKEN" not in channel.env
    for spec in rasas:
        assert "--enable-api" in spec.argv
        assert option(spec.argv, "--auth-token") == processes.AUTH_TOKEN_FROM_ENV
        assert spec.ready_url.endswith(f"/status?token={token}")
        assert option(spec.argv, "--logging-config-file").endswith("rasa_logging.yml")
    for spec in specs:  # `ps` shows command lines to every user of the host
        assert token not in " ".join(spec.argv) and action_token not in " ".join(spec.argv)
    again = processes.all_processes(settings_for(), MODEL)
    assert again[0].env["RASA_AUTH_TOKEN"] != token  # a new start, a new token


def test_the_rest_channel_token_is_generated_per_start_for_rasa_and_the_channels_only() -> None:
    specs = processes.all_processes(
        settings_for(RASA_REPLICAS="2", REDIS_URL="redis://127.0.0.1:6379/1", ACTION_REPLICAS="2", CONSOLE_WORKERS="2"),
        MODEL,
    )
    rasas = [s for s in specs if s.role == "rasa"]
    token = rasas[0].env["RASA_REST_TOKEN"]
    assert len(token) >= 32 and token not in (rasas[0].env["RASA_AUTH_TOKEN"], rasas[0].env["ACTION_SERVER_TOKEN"])
    users = [s for s in specs if s.role in ("rasa", "console", "bot")]
    assert {s.role for s in users} == {"rasa", "console", "bot"}
    assert {s.env["RASA_REST_TOKEN"] for s in users} == {token}  # the channels send what Rasa checks
    for spec in (s for s in specs if s.role == "actions"):  # they never use it
        assert "RASA_REST_TOKEN" not in spec.env
    for spec in specs:  # `ps` shows command lines to every user of the host
        assert token not in " ".join(spec.argv)
    again = [s for s in processes.all_processes(settings_for(), MODEL) if s.role == "rasa"]
    assert again[0].env["RASA_REST_TOKEN"] != token  # a new start, a new token


def test_a_rest_token_in_the_launchers_environment_reaches_only_its_users(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RASA_REST_TOKEN", "e" * 20)
    specs = processes.all_processes(settings_for(ACTION_REPLICAS="2"), MODEL)
    assert {s.env.get("RASA_REST_TOKEN") for s in specs if s.role == "actions"} == {None}


def test_configured_tokens_are_used_as_they_are() -> None:
    specs = processes.all_processes(
        settings_for(RASA_AUTH_TOKEN="r" * 20, ACTION_SERVER_TOKEN="a" * 20, RASA_REST_TOKEN="c" * 20), MODEL
    )
    internal = [s for s in specs if s.role in ("rasa", "actions")]
    assert {s.env["RASA_AUTH_TOKEN"] for s in internal} == {"r" * 20}
    assert {s.env["ACTION_SERVER_TOKEN"] for s in internal} == {"a" * 20}
    assert {s.env["RASA_REST_TOKEN"] for s in specs if s.role in ("rasa", "console", "bot")} == {"c" * 20}


def test_split_machines_must_share_the_action_token() -> None:
    with pytest.raises(ConfigError, match="ACTION_SERVER_TOKEN"):
        processes.with_service_tokens(settings_for(RUN_ROLES="rasa"))
    with pytest.raises(ConfigError, match="ACTION_SERVER_TOKEN"):
        processes.with_service_tokens(settings_for(RUN_ROLES="actions"))
    assert processes.with_service_tokens(
        settings_for(RUN_ROLES="rasa", ACTION_SERVER_TOKEN="a" * 20, RASA_REST_TOKEN="c" * 20)
    )


def test_split_machines_must_share_the_rest_token() -> None:
    for roles in ("rasa", "actions,rasa", "console", "bot", "console,bot"):
        with pytest.raises(ConfigError, match="RASA_REST_TOKEN"):
            processes.with_service_tokens(settings_for(RUN_ROLES=roles, ACTION_SERVER_TOKEN="a" * 20))
        shared = settings_for(RUN_ROLES=roles, ACTION_SERVER_TOKEN="a" * 20, RASA_REST_TOKEN="c" * 20)
        assert processes.with_service_tokens(shared).rasa_rest_token == "c" * 20
    # Rasa and a channel on one machine (the default, or the end-to-end stack): generated.
    assert processes.with_service_tokens(settings_for(RUN_ROLES="actions,rasa,console")).rasa_rest_token


def test_a_spec_cannot_be_built_without_tokens() -> None:
    with pytest.raises(ValueError, match="with_service_tokens"):
        processes.rasa_server(settings_for(), MODEL)


def test_short_tokens_are_refused() -> None:
    with pytest.raises(ConfigError, match="RASA_AUTH_TOKEN"):
        settings_for(RASA_AUTH_TOKEN="short")
    with pytest.raises(ConfigError, match="RASA_REST_TOKEN"):
        settings_for(RASA_REST_TOKEN="short")


def test_the_rasa_entry_takes_the_token_from_the_environment() -> None:
    argv = ["run", "--enable-api", "--auth-token", "env:RASA_AUTH_TOKEN", "--port", "5005"]
    assert resolve_secret_args(argv, {"RASA_AUTH_TOKEN": "t0ken-value-123456"}) == [
        "run",
        "--enable-api",
        "--auth-token=t0ken-value-123456",
        "--port",
        "5005",
    ]
    assert resolve_secret_args(["--auth-token=env:X"], {"X": "v" * 16}) == ["--auth-token=" + "v" * 16]
    assert resolve_secret_args(["--auth-token", "literal"], {}) == ["--auth-token=literal"]
    # A token that starts with "-" must not be taken for an option by Rasa's parser.
    resolved = resolve_secret_args(argv, {"RASA_AUTH_TOKEN": "-starts-with-a-dash"})
    assert "--auth-token=-starts-with-a-dash" in resolved
    with pytest.raises(SystemExit, match="RASA_AUTH_TOKEN"):
        resolve_secret_args(argv, {})


def test_settings_repr_hides_secrets() -> None:
    settings = settings_for(
        SECRET_KEY="k" * 40, RASA_AUTH_TOKEN="r" * 20, TELEGRAM_WEBHOOK_SECRET="w" * 20, RASA_REST_TOKEN="c" * 20
    )
    text = repr(settings)
    assert "k" * 40 not in text and "r" * 20 not in text and "w" * 20 not in text and "x" * 35 not in text
    assert "c" * 20 not in text


def test_the_launcher_leaves_its_tokens_for_scripts_of_its_user_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import launcher.__main__ as launcher_main

    for key, value in {"APP_ENV": "test", "DATA_DIR": str(tmp_path), "RUN_ROLES": "actions,rasa,console"}.items():
        monkeypatch.setenv(key, value)
    for key in processes.SERVICE_TOKENS:
        monkeypatch.delenv(key, raising=False)
    handed: list[Settings] = []
    for global_setup in ("install_record_masking", "quiet_url_loggers"):  # not in the test process
        monkeypatch.setattr(launcher_main, global_setup, lambda: None)
    monkeypatch.setattr(launcher_main, "prepare", lambda settings: None)
    monkeypatch.setattr(launcher_main, "all_processes", lambda settings, model: handed.append(settings) or [])
    monkeypatch.setattr(launcher_main, "run", lambda settings, specs, policy: 0)
    assert launcher_main.main() == 0
    [settings] = handed
    for path, token in (
        (rasa_token_path(settings), settings.rasa_auth_token),
        (rest_token_path(settings), settings.rasa_rest_token),
    ):
        assert path.stat().st_mode & 0o777 == 0o600
        assert path.read_text(encoding="utf-8") == token and len(token) >= 32
    # make eval reads them back when the variables are unset
    reader = Settings.from_env({"APP_ENV": "test", "DATA_DIR": str(tmp_path)}, dotenv=None)
    assert (read_rasa_token(reader), read_rest_token(reader)) == (settings.rasa_auth_token, settings.rasa_rest_token)
