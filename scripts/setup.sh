#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for webkv: Chromium (the runtime's browser) and the npm
# packages (npm ci also builds the page and the CLI through the `prepare` script).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v "${WEBKV_CHROMIUM:-chromium}" >/dev/null 2>&1 && [ ! -x "${WEBKV_CHROMIUM:-/usr/bin/chromium}" ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update
  $SUDO apt-get install -y chromium
fi
npm ci
