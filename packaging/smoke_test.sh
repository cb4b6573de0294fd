#!/usr/bin/env bash
# CI smoke test of the packaged Linux build: build it, then start the frozen app the ways a user and
# a support script would, and fail on any non-zero exit or unexpected output on stderr.
#
#   packaging/smoke_test.sh               build (python3 dev.py build), then test
#   packaging/smoke_test.sh --no-build    test the existing packaging/dist/gemtune-desktop
#
# Checks: `--version` prints the version; `check` validates a shipped sample file; the window opens
# offscreen (QT_QPA_PLATFORM=offscreen, first-run welcome included) and closes by itself
# (GEMTUNE_EXIT_AFTER_SHOW) with exit code 0 and nothing but known-harmless Qt notices on stderr;
# when Xvfb is installed, the same again on a virtual X display (the xcb platform plugin).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PY=${PYTHON:-python3}

if [ "${1:-}" != "--no-build" ]; then
  "$PY" dev.py build
fi

APP="$ROOT/packaging/dist/gemtune-desktop/gemtune-desktop"
[ -x "$APP" ] || { echo "FAIL: no built app at $APP" >&2; exit 1; }
VERSION=$("$PY" -c "import sys; sys.path.insert(0, '.'); import gemtune_desktop as g; print(g.__version__)")
TMP=$(mktemp -d)
XVFB_PID=""
cleanup() {
  if [ -n "$XVFB_PID" ]; then kill "$XVFB_PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT
export GEMTUNE_HOME="$TMP/home"   # never touch the real user's settings, projects or logs
FAILED=0

# Lines Qt prints on stderr in headless environments that are not errors.
HARMLESS='^(This plugin does not support propagateSizeHints\(\)|QStandardPaths: XDG_RUNTIME_DIR not set.*|QStandardPaths: runtime directory .* permissions.*)$'

step() {  # step NAME EXPECTED_EXIT_CODE COMMAND...
  local name=$1 want=$2; shift 2
  local code=0
  "$@" >"$TMP/out" 2>"$TMP/err" || code=$?
  local bad
  bad=$(grep -Ev "$HARMLESS" "$TMP/err" || true)
  if [ "$code" != "$want" ] || [ -n "$bad" ]; then
    echo "FAIL: $name (exit $code, expected $want)" >&2
    echo "--- stdout" >&2; cat "$TMP/out" >&2
    echo "--- stderr" >&2; cat "$TMP/err" >&2
    FAILED=1
    return 0
  fi
  echo "ok: $name"
}

# The lazily imported libraries must be inside the bundle (they are imported on first use, not at start).
VIEWER="$ROOT/.venv/bin/pyi-archive_viewer"
if [ -x "$VIEWER" ]; then
  "$VIEWER" -r -b "$APP" >"$TMP/contents" 2>/dev/null || true
  for module in google.genai.models google.genai.tunings google.cloud.storage.client \
      pyqtgraph.graphicsItems.PlotItem keyring.backends.SecretService gemtune_desktop.sandbox.server \
      gemtune_desktop.crash; do
    grep -qE "^ *${module//./\\.}\$" "$TMP/contents" || { echo "FAIL: $module is not in the bundle" >&2; FAILED=1; }
  done
  echo "ok: lazily imported modules are bundled"
fi

step "--version" 0 "$APP" --version
grep -q "GemTune Desktop $VERSION" "$TMP/out" || { echo "FAIL: --version printed: $(cat "$TMP/out")" >&2; FAILED=1; }

step "check on a sample" 0 "$APP" check "$ROOT/resources/samples/number-sequence.csv"
step "check --json on a sample" 0 "$APP" check --json "$ROOT/resources/samples/support-tickets.csv"

step "window offscreen" 0 env QT_QPA_PLATFORM=offscreen GEMTUNE_EXIT_AFTER_SHOW=1500 "$APP"
LOG="$GEMTUNE_HOME/logs/gemtune-desktop.log"
[ -s "$LOG" ] || { echo "FAIL: the window run wrote no log file" >&2; FAILED=1; }
# A module PyInstaller missed shows up as an import error in the log (lazy imports run on worker threads).
if grep -E "Traceback|No module named| ERROR | CRITICAL " "$LOG" >&2; then
  echo "FAIL: errors in the app's log ($LOG)" >&2; FAILED=1
fi
step "window offscreen, second start" 0 env QT_QPA_PLATFORM=offscreen GEMTUNE_EXIT_AFTER_SHOW=1500 "$APP"

# The installer adds the menu entry, icons and file type for this user, and removes them again.
XDG="$TMP/xdg"
step "install.sh" 0 env XDG_DATA_HOME="$XDG" sh "$ROOT/packaging/dist/gemtune-desktop/install.sh"
[ -s "$XDG/applications/gemtune-desktop.desktop" ] && [ -s "$XDG/icons/hicolor/256x256/apps/gemtune-desktop.png" ] \
  || { echo "FAIL: install.sh did not install the menu entry and icons" >&2; FAILED=1; }
step "install.sh --remove" 0 env XDG_DATA_HOME="$XDG" sh "$ROOT/packaging/dist/gemtune-desktop/install.sh" --remove
[ -z "$(find "$XDG" -name 'gemtune-desktop*' -type f)" ] || { echo "FAIL: install.sh --remove left files" >&2; FAILED=1; }

if command -v Xvfb >/dev/null 2>&1; then
  exec 7>"$TMP/display"
  Xvfb -displayfd 7 -screen 0 1280x900x24 -nolisten tcp >/dev/null 2>&1 &
  XVFB_PID=$!
  for _ in $(seq 50); do [ -s "$TMP/display" ] && break; sleep 0.1; done
  DISPLAY_NUM=$(head -n1 "$TMP/display")
  if [ -n "$DISPLAY_NUM" ]; then
    step "window on X11 (xcb)" 0 env -u WAYLAND_DISPLAY DISPLAY=":$DISPLAY_NUM" QT_QPA_PLATFORM=xcb \
      GEMTUNE_EXIT_AFTER_SHOW=1500 "$APP"
  else
    echo "skip: Xvfb did not start" >&2
  fi
fi

if [ "$FAILED" != 0 ]; then
  echo "Smoke test FAILED" >&2
  exit 1
fi
echo "Smoke test passed: $(du -sh "$ROOT/packaging/dist/gemtune-desktop" | cut -f1) bundle"
