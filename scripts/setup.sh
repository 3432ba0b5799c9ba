#!/usr/bin/env bash
# Create .venv with everything crackle and its test suite need. Idempotent.
# CPU torch goes in first, from the pinned version, so no later step pulls a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
# Debian packages for the browser test of the HTML report (chromium, chromium-driver)
# and the Fashion-MNIST data (dataset-fashion-mnist): installed when missing, as root
# with apt-get; elsewhere skipped with a note (the tests that need them skip too).
DEB_PKGS="chromium chromium-driver dataset-fashion-mnist jargon-text"
if command -v dpkg-query >/dev/null 2>&1; then
  missing=""
  for p in $DEB_PKGS; do
    case "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" in
      *"ok installed") ;;
      *) missing="$missing $p" ;;
    esac
  done
  if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "setup: installing Debian packages:$missing"
      if ! { DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
             DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
               $missing >/dev/null; }; then
        echo "setup: apt-get could not install$missing; tests that need them will skip"
      fi
    else
      echo "setup: Debian packages missing:$missing (need root and apt-get); skipped"
    fi
  fi
fi
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=${VENV:-.venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
"$VENV/bin/python" -m pip install -q "torch==2.13.0"
# The test extra pulls in every other extra (all = nn, sweep, cluster, neural, theory,
# lightning; and docs) plus the test tools: make demo and make test get everything.
"$VENV/bin/python" -m pip install -q -e ".[test]"
touch "$VENV/.crackle-installed"
