#!/bin/sh
# Install Debian's chromium for the report's browser test, unless a chromium is already on PATH.
# Used by `make test`; needs root or passwordless sudo (apt-get).
set -eu
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
echo "installing chromium (Debian package) for the browser test..." >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null 2>&1
