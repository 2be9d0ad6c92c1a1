"""Rasa started through servers.rasa_fixes: the action-answer schema is checked once, not per call.

Counting work, not time: Rasa's own ``_validate_action_result`` re-validates the answer schema
against the JSON Schema meta-schema on every action call; with the fix installed it never does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from jsonschema import ValidationError
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

from civil_affairs.config import PROJECT_ROOT, Settings
from launcher import processes
from servers import rasa_fixes

GOOD = {
    "events": [{"event": "slot", "name": "last_faq_key", "value": "dibao-apply", "timestamp": None}],
    "responses": [{"text": "低保的申请流程是……", "buttons": []}],
}
BAD = {"events": [{"event": 42}], "responses": "not a list"}


def schema_checks(calls: int) -> int:
    """How often the answer schema is itself checked while ``calls`` answers are validated."""
    action = RemoteAction("action_answer_faq", None)
    cls = validator_for(RemoteAction.action_response_format_spec())
    with mock.patch.object(cls, "check_schema", wraps=cls.check_schema) as check:
        for _ in range(calls):
            assert action._validate_action_result(GOOD) is True
        return check.call_count


@pytest.fixture
def installed() -> None:
    original = RemoteAction._validate_action_result
    rasa_fixes.action_response_validator.cache_clear()
    rasa_fixes._INSTALLED = False
    rasa_fixes.install()
    yield
    RemoteAction._validate_action_result = original
    rasa_fixes._INSTALLED = False


def test_rasa_alone_checks_the_schema_on_every_action_call() -> None:
    """The cost being fixed (Rasa 3.6 as installed): one meta-schema check per action answer."""
    assert schema_checks(10) == 10


def test_installed_validator_checks_the_schema_never_per_call(installed: None) -> None:
    rasa_fixes.action_response_validator()  # built (and the schema checked) once, at the first call
    assert schema_checks(10) == 0


def test_installed_validator_rejects_what_rasa_rejects(installed: None) -> None:
    action = RemoteAction("action_answer_faq", None)
    with pytest.raises(ValidationError) as raised:
        action._validate_action_result(BAD)
    assert "Failed to validate Action server response from API" in raised.value.message


def test_the_launcher_starts_rasa_through_this_module(tmp_path: Path) -> None:
    settings = Settings.from_env({"APP_ENV": "test", "DATA_DIR": str(tmp_path)}, dotenv=None)
    argv = processes.rasa_server(processes.with_service_tokens(settings), tmp_path / "model.tar.gz").argv
    assert argv[1:4] == ["-m", "servers.rasa_run", "run"]
    assert "--model" in argv and "--endpoints" in argv
    # The module hands its arguments to Rasa's own command line.
    shown = subprocess.run(
        [sys.executable, "-m", "servers.rasa_run", "run", "--help"],
        check=False,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    assert "--enable-api" in shown.stdout and "--credentials" in shown.stdout
