"""The offline advisory check of requirements.lock (scripts/audit_lock.py, security/advisories.yml)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.audit_lock import ADVISORY_FILE, LOCK_FILE, Advisory, audit, load_snapshot, main, read_pins


def test_no_pin_of_the_lock_is_known_vulnerable() -> None:
    advisories, accepted = load_snapshot()
    findings = audit(read_pins(LOCK_FILE.read_text(encoding="utf-8")), advisories, accepted)
    unaccepted = [f"{f.advisory.package}=={f.version}: {f.advisory.id}" for f in findings if not f.accepted]
    assert unaccepted == []
    matched = {(f.advisory.id, f.advisory.package) for f in findings}
    assert set(accepted) <= matched, "an accepted advisory no longer matches a pin: remove it"
    assert all(reason for reason in accepted.values()), "every accepted advisory needs a reason"


def test_the_check_catches_the_old_starlette_pin(tmp_path: Path) -> None:
    lock = tmp_path / "requirements.lock"
    lock.write_text(
        LOCK_FILE.read_text(encoding="utf-8").replace("starlette==0.50.0", "starlette==0.37.2"), encoding="utf-8"
    )
    advisories, accepted = load_snapshot()
    findings = audit(read_pins(lock.read_text(encoding="utf-8")), advisories, accepted)
    assert ("CVE-2024-47874", "starlette", "0.37.2") in {
        (f.advisory.id, f.advisory.package, f.version) for f in findings
    }
    assert main([str(lock)]) == 1
    assert main([str(LOCK_FILE)]) == 0


@pytest.mark.parametrize(
    ("line", "name", "version"),
    [
        ("Jinja2==3.1.3", "jinja2", "3.1.3"),
        ("python_multipart==0.0.6  # via fastapi", "python-multipart", "0.0.6"),
        ("SQLAlchemy==1.4.54 ; python_version >= '3.8'", "sqlalchemy", "1.4.54"),
    ],
)
def test_pins_are_read_with_normalised_names(line: str, name: str, version: str) -> None:
    assert read_pins(f"# comment\n{line}\n-e .\n") == {name: version}


@pytest.mark.parametrize(
    ("version", "hit"),
    [("1.26.16", True), ("1.26.19", False), ("2.0.5", True), ("2.2.1", True), ("2.2.2", False), ("2.8.0", False)],
)
def test_ranges_with_alternatives(version: str, hit: bool) -> None:
    advisory = Advisory("CVE-X", "urllib3", "<1.26.19 || >=2.0.0,<2.2.2")
    assert advisory.affects(version) is hit


def test_every_advisory_names_a_real_range() -> None:
    advisories, _ = load_snapshot(ADVISORY_FILE)
    assert any(a.id == "CVE-2024-47874" and a.package == "starlette" for a in advisories)
    for advisory in advisories:
        assert advisory.id.startswith(("CVE-", "GHSA-", "PYSEC-")) and advisory.summary
        advisory.affects("0.0.1")  # raises on a malformed range
