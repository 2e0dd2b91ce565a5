#!/usr/bin/env bash
# Smoke test of a built bundle, headless, with nothing of this checkout in reach:
#   packaging/smoke.sh [DIST]        (DIST: dist/tfstudio, as packaging/build.sh writes it)
# Each step runs the bundle's own executable under `env -i` (PATH=/usr/bin:/bin, a fresh HOME,
# no PYTHONPATH) in an empty folder: --version, doctor, demo, a short training with a data
# loader worker (a child process of the frozen app), detect, export, and the app itself under
# Xvfb until its window paints. Not part of the test suite: it takes minutes.
set -euo pipefail
dist=$(cd "${1:-$(dirname "$0")/../dist/tfstudio}" && pwd)
exe=$dist/tfstudio
[ -x "$exe" ] || { echo "no bundle at $dist (run packaging/build.sh)" >&2; exit 2; }

# As root with unshare, the checkout's .venv and tfstudio/ are hidden (empty tmpfs mounts in a
# private mount namespace, for this script only): the bundle must not need them.
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "${TFSTUDIO_SMOKE_HIDDEN:-}" ] && [ "$(id -u)" -eq 0 ] && command -v unshare >/dev/null \
    && unshare -m --propagation private true 2>/dev/null; then
    exec env TFSTUDIO_SMOKE_HIDDEN=1 unshare -m --propagation private "$0" "$dist"
fi
if [ -n "${TFSTUDIO_SMOKE_HIDDEN:-}" ]; then
    for hide in "$repo/.venv" "$repo/tfstudio"; do
        [ -d "$hide" ] && mount -t tmpfs tmpfs "$hide"
    done
    echo "hidden: $repo/.venv and $repo/tfstudio (empty in this mount namespace)"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/tfstudio-smoke.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/home"
cd "$work"
clean=(env -i "HOME=$work/home" PATH=/usr/bin:/bin LANG=C.UTF-8 "TFSTUDIO_LOG_DIR=$work/logs"
       OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}")
tfstudio() { "${clean[@]}" QT_QPA_PLATFORM=offscreen "$exe" "$@"; }

failures=0
step() {
    local name=$1; shift
    local start=$SECONDS
    if "$@" >"$work/$name.out" 2>"$work/$name.err"; then
        echo "ok    $name ($(( SECONDS - start )) s)"
    else
        echo "FAIL  $name ($(( SECONDS - start )) s, exit $?)"
        tail -n 15 "$work/$name.err" "$work/$name.out" | sed 's/^/      /'
        failures=$((failures + 1))
    fi
}

version() { tfstudio --version | tee /dev/stderr | grep -q "^tfstudio [0-9]"; }
doctor() { tfstudio doctor --json | tail -n 1 | grep -q '"auto_device"'; }
demo() { tfstudio demo "$work/P" --recordings 4 --seconds 4; test -f "$work/P/project.sqlite"; }
train() {
    tfstudio train "$work/P" --epochs 1 --max-batches 2 --workers 1 --device cpu --json \
        | tee "$work/train.jsonl" | grep -q '"event": *"done"'
}
detect() { tfstudio detect "$work/P" --json | tail -n 1 | grep -q '"events"'; }
export_() {
    tfstudio export "$work/P" --format dcase --source detections -o "$work/detections.tsv"
    tfstudio export "$work/P" --format raven -o "$work/raven"
    test -s "$work/detections.tsv" && ls "$work/raven"/*.txt >/dev/null
}
gui() {
    # A real window (xcb) on a virtual display; the startup probe quits at its first paint.
    "${clean[@]}" "TFSTUDIO_STARTUP_PROBE=$work/probe.json" \
        timeout 120 xvfb-run -a "$exe" "$work/P"
    grep -q '"painted"' "$work/probe.json" && cat "$work/probe.json"
}

step version version
step doctor doctor
step demo demo
step train train
step detect detect
step export export_
if command -v xvfb-run >/dev/null; then
    step gui gui
    [ -f "$work/probe.json" ] && echo "      loaded at start: $(grep -o '"heavy": *\[[^]]*\]' "$work/probe.json")"
else
    echo "skip  gui (no xvfb-run)"
fi
step log test -s "$work/logs/tfstudio.log"

echo "bundle: $dist ($(du -sh "$dist" | cut -f1))"
[ "$failures" -eq 0 ] && echo "smoke test passed" || echo "smoke test: $failures step(s) failed"
exit $((failures > 0))
