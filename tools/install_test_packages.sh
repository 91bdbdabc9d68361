#!/bin/sh
# Install the Debian packages the tests use, unless already there: chromium (the report's browser
# test) and postgresql (a real PostgreSQL server for the run-store tests; the tests start their own
# throw-away cluster and never use the system one). Used by `make test`; needs root or sudo (apt-get).
set -eu
missing=""
if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    missing="$missing chromium"
fi
if ! command -v postgres >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    missing="$missing postgresql"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "installing Debian packages for the tests:$missing" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
command -v chromium >/dev/null 2>&1
ls /usr/lib/postgresql/*/bin/postgres >/dev/null
