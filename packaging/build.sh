#!/usr/bin/env bash
# Build the one-folder app bundle dist/tfstudio/ with PyInstaller (the app and every command in
# one executable, dist/tfstudio/tfstudio; no Python needed where it runs).
#   packaging/build.sh            build (about 10 minutes on 2 cores; several GB with CUDA torch)
#   packaging/smoke.sh dist/tfstudio   then test the bundle headless
#
# The bundle holds the torch of .venv (uv.lock: on Linux the PyPI build, which carries CUDA and
# uses a GPU when there is one, else the CPU). PyInstaller itself goes into a throwaway venv,
# build/pyinstaller-env, which sees .venv's packages through a .pth file: .venv stays exactly
# what uv.lock says (uv sync would remove anything added to it).
set -euo pipefail
cd "$(dirname "$0")/.."

PYINSTALLER=${PYINSTALLER:-pyinstaller==6.22.3 pyinstaller-hooks-contrib==2026.9}

[ -x .venv/bin/python ] || packaging/dev.sh setup

env=build/pyinstaller-env
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ ! -x "$env/bin/python" ] || ! "$env/bin/python" -m PyInstaller --version >/dev/null 2>&1; then
    base=$(.venv/bin/python -c 'import sys; print(sys._base_executable)')
    "$base" -m venv "$env"
    # shellcheck disable=SC2086 # one word per requirement
    "$env/bin/python" -m pip install --quiet $PYINSTALLER
fi
env_site=$("$env/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
echo "$site" > "$env_site/tfstudio-venv.pth"

start=$(date +%s)
"$env/bin/python" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath dist --workpath build/pyinstaller packaging/pyinstaller/tfstudio.spec
if [ "$(uname)" = Linux ]; then
    # dist/tfstudio/linux/install-desktop.sh registers the bundle with the desktop.
    mkdir -p dist/tfstudio/linux
    cp packaging/linux/install-desktop.sh packaging/linux/io.github.tfstudio.TFStudio.* \
        dist/tfstudio/linux/
fi
echo "built dist/tfstudio in $(( $(date +%s) - start )) s: $(du -sh dist/tfstudio | cut -f1)"
