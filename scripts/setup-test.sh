#!/usr/bin/env bash
# Installs what the tests need beyond scripts/setup.sh: Dovecot (two real IMAP servers per test), mbsync for the
# benchmark and Chromium for the dashboard's browser tests, from Debian's packages.
# Radicale (PyPI) for the CalDAV/CardDAV tests, into .venv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

missing=()
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd)
command -v mbsync >/dev/null || missing+=(isync)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Radicale (CalDAV/CardDAV) for the calendar and contact tests, into the same .venv as the Temporal wheels.
if [ ! -x .venv/bin/radicale ] || [ tools/requirements-test.txt -nt .venv/.installed-test ]; then
  echo "setup: installing $(grep -v '^#' tools/requirements-test.txt | tr '\n' ' ')into .venv"
  [ -x .venv/bin/pip ] || python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r tools/requirements-test.txt
  touch .venv/.installed-test
fi
