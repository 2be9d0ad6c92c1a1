#!/usr/bin/env bash
# Resolve requirements.in in a fresh Python 3.10 venv and write the pinned result to requirements.lock.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
"$(readlink -f .venv/bin/python)" -m venv "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet "pip==24.3.1"
"$tmp/venv/bin/pip" install --quiet -r requirements.in
"$tmp/venv/bin/pip" check
{ echo "# Generated from requirements.in by 'make lock' (pip freeze of a clean venv, Python 3.10). Do not edit."
  "$tmp/venv/bin/pip" freeze | grep -v '^-e'; } > requirements.lock
rm -rf "$tmp"
echo "requirements.lock updated ($(grep -vc '^#' requirements.lock) packages)"
