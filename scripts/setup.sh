#!/usr/bin/env bash
# Installs what a fresh Debian machine lacks for webkv: Chromium (the runtime's browser), the Vulkan loader
# (libvulkan1: the Dawn backend reaches SwiftShader or a GPU driver through it) and the npm packages (npm ci
# also builds the page and the CLI through the `prepare` script).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
if ! command -v "${WEBKV_CHROMIUM:-chromium}" >/dev/null 2>&1 && [ ! -x "${WEBKV_CHROMIUM:-/usr/bin/chromium}" ]; then
  missing+=(chromium)
fi
if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1'; then
  missing+=(libvulkan1)
fi
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}"
fi
npm ci
