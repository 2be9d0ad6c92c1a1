#!/usr/bin/env bash
# Browser tests drive Debian's chromium with Playwright (Playwright's own browser download is not
# possible here). Install chromium and a CJK font when missing and we are allowed to; otherwise say
# that the browser tests will be skipped.
set -euo pipefail
fonts=$(fc-list 2>/dev/null || true)  # read first: "fc-list | grep -q" fails under pipefail
if command -v chromium >/dev/null 2>&1 && grep -qiE "wqy|noto.*cjk" <<<"$fonts"; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing chromium and a Chinese font for the browser tests (apt-get)"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
else
  echo "NOTE: chromium (and fonts-wqy-zenhei) not installed and apt-get not usable as this user:"
  echo "      browser tests will be skipped. Install them with: sudo apt-get install chromium fonts-wqy-zenhei"
fi
