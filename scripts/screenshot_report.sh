#!/usr/bin/env bash
# Render a campaign's HTML report in headless Chromium and save a PNG screenshot of it, to look at.
# Usage: scripts/screenshot_report.sh WORKDIR [OUT.png]   (installs Debian's chromium when missing: needs root)
set -euo pipefail
workdir=${1:?usage: $0 WORKDIR [OUT.png]}
out=${2:-$workdir/report/screenshot.png}
cd "$(dirname "$0")/.."
PYTHONPATH=$PWD .venv/bin/python -m nabla_atheris report "$workdir" >/dev/null
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "installing chromium (Debian package)" >&2
  apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  browser=$(command -v chromium)
fi
page=$(realpath "$workdir/report/report.html")
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1800 \
  --screenshot="$(realpath -m "$out")" "file://$page" 2>/dev/null
echo "$out"
