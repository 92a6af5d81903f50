#!/usr/bin/env bash
# Render an evaluation report the way a person sees it: headless Chromium, full page.
# Usage: scripts/check_report.sh <report.html> <screenshot.png> [width] [height]
# Needs the Debian package `chromium` (apt-get install -y chromium).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 <report.html> <screenshot.png> [width] [height]" >&2
  exit 2
fi
HTML="$(realpath "$1")"
PNG="$(realpath -m "$2")"
W="${3:-1500}"
H="${4:-1500}"
CHROME="${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}"
if [ -z "$CHROME" ]; then
  echo "check_report.sh: chromium not found; install it with: apt-get install -y chromium" >&2
  exit 1
fi
[ -f "$HTML" ] || { echo "check_report.sh: no such report: $HTML" >&2; exit 1; }
PROFILE="$(mktemp -d)"
trap 'rm -rf "$PROFILE"' EXIT
"$CHROME" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --user-data-dir="$PROFILE" --window-size="$W,$H" \
  --screenshot="$PNG" "file://$HTML" >/dev/null 2>&1
[ -s "$PNG" ] || { echo "check_report.sh: chromium wrote no screenshot" >&2; exit 1; }
# Sanity: the page must contain an <svg> per plot and a line per candidate.
svgs=$(grep -o '<svg' "$HTML" | wc -l)
lines=$(grep -o '<polyline class="series"' "$HTML" | wc -l)
echo "rendered $HTML -> $PNG (${W}x${H}); $svgs svg plots, $lines candidate lines"
