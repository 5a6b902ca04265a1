#!/usr/bin/env bash
# Install the system packages the test suite needs, only when they are missing.
set -euo pipefail
need=()
if ! command -v pg_ctl >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  need+=(postgresql)
fi
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
# headless browser for the Playwright end-to-end tests (tests/e2e; never `playwright install`)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing system packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
