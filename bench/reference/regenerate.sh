#!/usr/bin/env bash
# Regenerate every reference fixture (deterministic; safe to re-run).
# Usage: bash bench/reference/regenerate.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bash "$ROOT/bench/setup_venv.sh" >/dev/null
PY="$ROOT/bench/.venv/bin/python"
for s in features split_models arima metrics; do
  "$PY" "$ROOT/bench/reference/$s.py"
done
# Scripts added by crate owners (e.g. arima_extra.py) are run too.
for f in "$ROOT"/bench/reference/*.py; do
  case "$(basename "$f")" in
    _common.py|features.py|split_models.py|arima.py|metrics.py) ;;
    *) "$PY" "$f" ;;
  esac
done
