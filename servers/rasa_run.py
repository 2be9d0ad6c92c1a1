"""``python -m servers.rasa_run run …``: Rasa's command line, taking secret arguments from the environment,
with this service's speed fixes installed (``servers.rasa_fixes``).

The launcher passes ``--auth-token env:RASA_AUTH_TOKEN`` (launcher.processes.rasa_run_args); this
module replaces every ``env:NAME`` value of a secret option by ``$NAME`` before Rasa parses its
arguments, so the token is in the process's environment (readable by its owner only) and never on
its command line (readable by every user of the host through ``ps``). Another entry module that
starts Rasa must call ``resolve_secret_args`` the same way.
"""

from __future__ import annotations

import os
import sys

from servers import rasa_fixes

# Options of `rasa run` whose value is a secret.
SECRET_OPTIONS = ("--auth-token", "--jwt-secret")
ENV_PREFIX = "env:"


def resolve_secret_args(argv: list[str], environ: dict[str, str] | os._Environ[str] | None = None) -> list[str]:
    """``argv`` with each ``env:NAME`` value of a secret option replaced by the variable's value.

    A variable that is unset or empty is an error: Rasa would otherwise serve its API without a
    token, or with the literal placeholder as its token.
    """
    environ = os.environ if environ is None else environ
    resolved: list[str] = []
    pending: str | None = None  # a secret option whose value is the next argument
    for arg in argv:
        option, eq, value = arg.partition("=")
        if pending is None and not (eq and option in SECRET_OPTIONS):
            if arg in SECRET_OPTIONS:
                pending = arg
            else:
                resolved.append(arg)
            continue
        name, raw = (pending, arg) if pending is not None else (option, value)
        if raw.startswith(ENV_PREFIX):
            variable = raw[len(ENV_PREFIX) :]
            raw = environ.get(variable, "")
            if not raw:
                raise SystemExit(f"{variable} is not set: Rasa's HTTP API would run without its token")
        # One argument, so a value starting with "-" is not taken for an option.
        resolved.append(f"{name}={raw}")
        pending = None
    if pending is not None:
        resolved.append(pending)  # let Rasa's parser report the missing value
    return resolved


def main() -> None:
    """Run Rasa's command line with the secrets resolved and the speed fixes installed."""
    sys.argv = ["rasa", *resolve_secret_args(sys.argv[1:])]
    rasa_fixes.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
