#!/usr/bin/env bash
# Take the README screenshot of the Train tab while it trains, under Xvfb.
#
#   tools/screenshot_train.sh RUN_FOLDER [OUT.png]
#
# Copies RUN_FOLDER (a run made by ganstudio-train or the app) to a temporary folder — the
# original is never written — opens it with `ganstudio --train COPY`, presses "Resume run",
# lets it train for TRAIN_S seconds (default 45) and saves the window as OUT.png (default
# docs/train_panel.png, kept under 400 KB). Uses ../shared/tools/shoot (override: SHOOT=...)
# and the Python in PYTHON (default: python).
set -euo pipefail
cd "$(dirname "$0")/.."
run=${1:?usage: tools/screenshot_train.sh RUN_FOLDER [OUT.png]}
out=${2:-docs/train_panel.png}
shoot=${SHOOT:-../shared/tools/shoot}
python=${PYTHON:-python}
copy=$(mktemp -d)
raw=$(mktemp --suffix=.png)
trap 'rm -rf "$copy" "$raw"' EXIT
cp -r "$run"/. "$copy"/
# the "Resume run" button sits at the top left of the Train tab in a 1480x900 window
GANSTUDIO_THREADS=${GANSTUDIO_THREADS:-1} "$shoot" --wait "${WAIT:-15}" --size 1480x900 \
  --out "$raw" --xdo "mousemove 398 66; click 1; sleep ${TRAIN_S:-45}" \
  -- "$python" -m ganstudio --train "$copy"
mkdir -p "$(dirname "$out")"
"$python" tools/shrink_png.py "$raw" "$out"
