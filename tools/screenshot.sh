#!/usr/bin/env bash
# Take the README screenshot of the real explorer window under Xvfb.
#
#   tools/screenshot.sh [OUT.png] [-- ganstudio arguments]
#
# Default: docs/screenshot.png of `python -m ganstudio tools/screenshot_session.json` (the built-in
# model with a few rows moved and seed B mixed in). Uses ../shared/tools/shoot (override: SHOOT=...),
# the Python in PYTHON (default: python), and Pillow to keep the PNG under 400 KB.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshot.png}
[ $# -gt 0 ] && shift
[ "${1:-}" = "--" ] && shift
args=("$@")
[ ${#args[@]} -gt 0 ] || args=(tools/screenshot_session.json)
shoot=${SHOOT:-../shared/tools/shoot}
python=${PYTHON:-python}
raw=$(mktemp --suffix=.png)
trap 'rm -f "$raw"' EXIT
GANSTUDIO_THREADS=${GANSTUDIO_THREADS:-1} "$shoot" --wait "${WAIT:-15}" --size 1480x900 --out "$raw" \
  -- "$python" -m ganstudio "${args[@]}"
mkdir -p "$(dirname "$out")"
"$python" tools/shrink_png.py "$raw" "$out"
