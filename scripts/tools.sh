#!/usr/bin/env bash
# Tools the tests need beyond Python packages, from Debian's packages (as root):
# promtool (package prometheus) runs the alert rules' unit tests; docker-compose validates
# docker-compose.yml (no Docker engine needed for `config`); chromium is the browser the
# console's tests drive with Playwright (never `playwright install`: it downloads its own).
set -u
need() { command -v "$1" >/dev/null 2>&1; }
install() {  # package...
  if [ "$(id -u)" != 0 ] || ! need apt-get; then
    echo "missing $*: install it with your package manager (Debian: apt-get install $*)" >&2
    return 1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
         apt-get install -y -qq --no-install-recommends "$@" >/dev/null; }
}
need promtool || install prometheus
need docker-compose || install docker-compose
need chromium || install chromium
