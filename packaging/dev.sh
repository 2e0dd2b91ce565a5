#!/usr/bin/env bash
# One entry point for a fresh clone: installs what is missing, then runs the task.
#   packaging/dev.sh demo [DIR]   make a demo project (once) and open it in the app
#   packaging/dev.sh test         run the whole test suite (Qt offscreen)
#   packaging/dev.sh check        lint, format check, import contracts, type check
#   packaging/dev.sh setup        only install (system libraries when root, then .venv)
#   packaging/dev.sh ARGS...      run 'tfstudio ARGS...' in the project's environment
set -euo pipefail
cd "$(dirname "$0")/.."

# Libraries Qt needs on Debian/Ubuntu: xcb platform (a real window), EGL/GL, fonts, and
# PulseAudio for QtMultimedia playback; xvfb and xauth for screenshots without a display.
QT_DEBS=(libegl1 libgl1 libglib2.0-0 libfontconfig1 libdbus-1-3 libxkbcommon0
         libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0
         libxcb-render-util0 libxcb-shape0 libxcb-xinerama0 libxcb-randr0 libxcb-xkb1
         libpulse0 libsndfile1 xvfb xauth)

system_deps() {
    command -v dpkg-query >/dev/null || return 0
    local missing=()
    for deb in "${QT_DEBS[@]}"; do
        dpkg-query -W -f='${Status}' "$deb" 2>/dev/null | grep -q "ok installed" || missing+=("$deb")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
        echo "installing system libraries: ${missing[*]}" >&2
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "warning: missing system libraries for Qt: ${missing[*]}" >&2
        echo "         install them with: sudo apt-get install ${missing[*]}" >&2
    fi
}

python_env() {
    local uv
    if command -v uv >/dev/null; then
        uv=uv
    else
        # uv from PyPI in a private tools venv: no system pip changes, no PEP 668 trouble.
        [ -x .tools/bin/uv ] || { python3 -m venv .tools && .tools/bin/pip install -q uv; }
        uv=.tools/bin/uv
    fi
    # --frozen: exactly the versions in uv.lock, never a re-resolve. --compile-bytecode: as pip
    # does; without it every start of the app compiles pyqtgraph & co. from source again where
    # bytecode cannot be written (PYTHONDONTWRITEBYTECODE, a read-only install): ~1 s of a 3 s
    # cold start. Once 1 min for the whole environment, then ~2 s a sync to check it.
    "$uv" sync --frozen --extra dev --python "${PYTHON:-python3}" --quiet --compile-bytecode
    # The checkout itself (an editable install, which uv does not compile): what changed since.
    .venv/bin/python -m compileall -q tfstudio >/dev/null || true  # errors: ruff and tests say
}

setup() { system_deps; python_env; }

task=${1:-}
case "$task" in
    setup) setup ;;
    demo)
        setup
        dir=${2:-$HOME/tfstudio-demo}
        [ -f "$dir/project.sqlite" ] || .venv/bin/tfstudio demo "$dir"
        if [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ] || [ "$(uname)" = Darwin ]; then
            exec .venv/bin/tfstudio "$dir"
        fi
        echo "no display: not opening the app. The project is ready at $dir:" >&2
        exec .venv/bin/tfstudio info "$dir"
        ;;
    test)
        setup
        shift
        export QT_QPA_PLATFORM=offscreen
        exec .venv/bin/python -m pytest "$@"
        ;;
    check)
        setup
        .venv/bin/ruff check tfstudio tests
        .venv/bin/ruff format --check tfstudio tests
        .venv/bin/lint-imports
        .venv/bin/mypy
        ;;
    "") echo "usage: packaging/dev.sh demo [DIR] | test | check | setup | TFSTUDIO-ARGS..." >&2; exit 2 ;;
    *) python_env; exec .venv/bin/tfstudio "$@" ;;
esac
