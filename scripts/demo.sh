#!/usr/bin/env bash
# The main job on a fresh machine: set up, then generate with stories260K in headless Chromium (WebGPU on
# SwiftShader) and print the GPU memory report. Extra arguments go to `webkv run`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${WEBKV_MODELS:-}" ] && [ -d ../shared/models ]; then export WEBKV_MODELS="$(cd ../shared/models && pwd)"; fi
exec node bin/webkv.js run --model stories260K --prompt "Once upon a time" --max-tokens 128 "$@"
