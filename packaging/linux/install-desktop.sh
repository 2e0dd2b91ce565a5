#!/usr/bin/env bash
# Register tfstudio with the desktop (menu entry, icon, AppStream data) for the current user.
# Run after packaging/dev.sh setup; the entry starts this checkout's .venv/bin/tfstudio.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
id=io.github.tfstudio.TFStudio
install -Dm644 "$repo/resources/icons/tfstudio.svg" "$data/icons/hicolor/scalable/apps/$id.svg"
install -Dm644 "$here/$id.metainfo.xml" "$data/metainfo/$id.metainfo.xml"
mkdir -p "$data/applications"
sed "s|^Exec=tfstudio|Exec=$repo/.venv/bin/tfstudio|" "$here/$id.desktop" > "$data/applications/$id.desktop.tmp"
mv "$data/applications/$id.desktop.tmp" "$data/applications/$id.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "installed $id for $(id -un)"
