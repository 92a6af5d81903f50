#!/usr/bin/env bash
# Create (or update) the Python venv used for reference fixtures and benchmark peers.
# Idempotent: re-running only installs what is missing or at the wrong version.
# Usage: bash bench/setup_venv.sh        (from anywhere)
set -euo pipefail

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VENV="$BENCH_DIR/.venv"
REQS="$BENCH_DIR/requirements.txt"

PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1; then PY="$cand"; break; fi
  done
fi
if [ -z "$PY" ]; then
  echo "setup_venv.sh: no python3 found; install Python 3.11 (e.g. apt-get install python3 python3-venv)" >&2
  exit 1
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV with $("$PY" --version 2>&1)"
  "$PY" -m venv "$VENV"
fi

# Skip pip entirely when every pinned requirement is already satisfied.
if "$VENV/bin/python" - "$REQS" <<'PYEOF'
import sys
from importlib.metadata import version, PackageNotFoundError
ok = True
for line in open(sys.argv[1]):
    line = line.split("#", 1)[0].strip()
    if not line:
        continue
    name, want = line.split("==")
    try:
        have = version(name)
    except PackageNotFoundError:
        have = None
    if have != want:
        ok = False
sys.exit(0 if ok else 1)
PYEOF
then
  echo "bench/.venv already up to date"
else
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
  "$VENV/bin/python" -m pip install --quiet -r "$REQS"
fi

"$VENV/bin/python" -c 'import numpy, scipy, pandas, sklearn, statsmodels; print("numpy", numpy.__version__, "scipy", scipy.__version__, "pandas", pandas.__version__, "sklearn", sklearn.__version__, "statsmodels", statsmodels.__version__)'
