"""Offline check of requirements.lock against the advisory snapshot in security/advisories.yml.

pip-audit needs advisory APIs that this machine cannot reach, so the known-vulnerable ranges are
kept in the repository and checked here (and by tests/test_advisories.py in every test run):
``python scripts/audit_lock.py [LOCKFILE]`` prints every pin in a vulnerable range and exits 1 when
one is not accepted in the snapshot.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
LOCK_FILE = ROOT / "requirements.lock"
ADVISORY_FILE = ROOT / "security" / "advisories.yml"
_PIN_RE = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([^\s;#]+)")


@dataclass(frozen=True)
class Advisory:
    """One published vulnerability: a package and the versions it affects."""

    id: str
    package: str
    vulnerable: str
    summary: str = ""

    def affects(self, version: str) -> bool:
        """True when ``version`` lies in one of the ``||``-separated ranges."""
        parsed = Version(version)
        return any(parsed in SpecifierSet(part.strip(), prereleases=True) for part in self.vulnerable.split("||"))


@dataclass(frozen=True)
class Finding:
    """A pinned version that an advisory affects."""

    advisory: Advisory
    version: str
    accepted: str = ""  # the recorded reason, when the risk is accepted


def normalise(name: str) -> str:
    """PEP 503 name: ``Jinja2`` and ``jinja2``, ``python_multipart`` and ``python-multipart`` are one."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_pins(text: str) -> dict[str, str]:
    """``name==version`` lines of a lock file, by normalised name."""
    return {normalise(m.group(1)): m.group(2) for m in map(_PIN_RE.match, text.splitlines()) if m}


def load_snapshot(path: Path = ADVISORY_FILE) -> tuple[list[Advisory], dict[tuple[str, str], str]]:
    """The advisories, and the accepted ones as {(id, package): reason}."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    advisories = [
        Advisory(str(a["id"]), normalise(str(a["package"])), str(a["vulnerable"]), str(a.get("summary", "")))
        for a in data.get("advisories") or []
    ]
    accepted = {
        (str(a["id"]), normalise(str(a["package"]))): " ".join(str(a.get("reason", "")).split())
        for a in data.get("accepted") or []
    }
    return advisories, accepted


def audit(
    pins: dict[str, str], advisories: list[Advisory], accepted: dict[tuple[str, str], str] | None = None
) -> list[Finding]:
    """Every pin an advisory affects, with the acceptance reason where there is one."""
    accepted = accepted or {}
    return [
        Finding(a, pins[a.package], accepted.get((a.id, a.package), ""))
        for a in advisories
        if a.package in pins and a.affects(pins[a.package])
    ]


def main(argv: list[str] | None = None) -> int:
    """Print the findings; 1 when any is not accepted, or an acceptance no longer matches."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("lock", nargs="?", type=Path, default=LOCK_FILE)
    args = parser.parse_args(argv)
    advisories, accepted = load_snapshot()
    findings = audit(read_pins(args.lock.read_text(encoding="utf-8")), advisories, accepted)
    for f in findings:
        state = "accepted" if f.accepted else "VULNERABLE"
        print(
            f"{state}: {f.advisory.package}=={f.version} {f.advisory.id} ({f.advisory.vulnerable}): "
            f"{f.advisory.summary}"
        )
    stale = set(accepted) - {(f.advisory.id, f.advisory.package) for f in findings}
    for advisory_id, package in sorted(stale):
        print(f"stale acceptance: {advisory_id} for {package} no longer matches a pin; remove it")
    return 1 if stale or any(not f.accepted for f in findings) else 0


if __name__ == "__main__":
    sys.exit(main())
