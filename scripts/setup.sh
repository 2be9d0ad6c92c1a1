#!/usr/bin/env bash
# Create .venv with Python 3.10 and install the pinned lock, only when something changed.
# Rasa 3.6 supports Python 3.8-3.10 only, so a newer default python3 is not usable.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  for candidate in "${PYTHON310:-}" python3.10; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
      && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  local roots=()
  if command -v pyenv >/dev/null 2>&1; then roots+=("$(pyenv root)"); fi
  roots+=("${PYENV_ROOT:-}" "$HOME/.pyenv")
  for root in "${roots[@]}"; do
    [ -n "$root" ] || continue
    for candidate in $(ls -d "$root"/versions/3.10.*/bin/python3.10 2>/dev/null | sort -V -r); do
      if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
    done
  done
  return 1
}

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
  if ! PY=$(find_python310); then
    cat >&2 <<'MSG'
ERROR: Python 3.10 was not found (Rasa 3.6 supports Python 3.8-3.10 only).
Looked on PATH (python3.10), in $PYTHON310, and in pyenv's versions folder.
Install it, for example:  pyenv install 3.10.13   (or: apt-get install python3.10 python3.10-venv)
or point PYTHON310 at an interpreter:  make run PYTHON310=/path/to/python3.10
MSG
    exit 1
  fi
  echo "==> creating .venv with $PY"
  rm -rf .venv
  "$PY" -m venv .venv
fi

stamp=.venv/.requirements.lock.sha256
want=$(sha256sum requirements.lock | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "==> installing requirements.lock into .venv (first time takes a few minutes)"
  .venv/bin/python -m pip install --quiet --upgrade "pip==24.3.1"
  .venv/bin/python -m pip install --quiet -r requirements.lock
  .venv/bin/python -m pip check
  echo "$want" > "$stamp"
fi

# The project's packages are importable from the venv wherever a command runs (scripts, tests,
# `python -m …`), without path hacks: a .pth file adds the project root to sys.path.
# A .venv that is a symlink belongs to another checkout (a git worktree sharing it): leave its
# .pth pointing at that checkout.
if [ ! -L .venv ]; then
  site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  echo "$PWD" > "$site/civil_affairs_project.pth"
fi
