#!/usr/bin/env bash
# Register tfstudio with the desktop (menu entry, icon, AppStream data) for the current user.
#   packaging/linux/install-desktop.sh              this checkout's .venv/bin/tfstudio
#   dist/tfstudio/linux/install-desktop.sh          the bundle it sits in (packaging/build.sh)
#   install-desktop.sh /path/to/tfstudio            that executable (a bundle's or a venv's)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
id=io.github.tfstudio.TFStudio
data=${XDG_DATA_HOME:-$HOME/.local/share}

if [ $# -ge 1 ]; then
    exe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
elif [ -x "$here/../tfstudio" ] && [ -d "$here/../_internal" ]; then
    exe=$(cd "$here/.." && pwd)/tfstudio  # inside a bundle: dist/tfstudio/linux/
else
    exe=$(cd "$here/../.." && pwd)/.venv/bin/tfstudio  # a checkout (packaging/dev.sh setup)
fi
[ -x "$exe" ] || { echo "error: no tfstudio executable at $exe" >&2; exit 2; }

# The icon: a bundle's (beside its executable), else the checkout's resources/.
icon=
for candidate in "$(dirname "$exe")/_internal/tfstudio/resources/icons/tfstudio.svg" \
                 "$here/../_internal/tfstudio/resources/icons/tfstudio.svg" \
                 "$here/../../resources/icons/tfstudio.svg"; do
    if [ -f "$candidate" ]; then icon=$candidate; break; fi
done
[ -n "$icon" ] || { echo "error: tfstudio.svg not found beside $exe or in $here" >&2; exit 2; }

install -Dm644 "$icon" "$data/icons/hicolor/scalable/apps/$id.svg"
install -Dm644 "$here/$id.metainfo.xml" "$data/metainfo/$id.metainfo.xml"
mkdir -p "$data/applications"
# Exec's argument, quoted and escaped as the desktop entry specification asks (a path may hold
# spaces): \ " ` $ get a backslash inside the quotes, then every backslash is doubled.
e=${exe//\\/\\\\}; e=${e//\"/\\\"}; e=${e//\`/\\\`}; e=${e//\$/\\\$}; e=${e//\\/\\\\}
while IFS= read -r line; do
    if [[ $line == Exec=tfstudio* ]]; then
        printf 'Exec="%s"%s\n' "$e" "${line#Exec=tfstudio}"
    else
        printf '%s\n' "$line"
    fi
done < "$here/$id.desktop" > "$data/applications/$id.desktop.tmp"
mv "$data/applications/$id.desktop.tmp" "$data/applications/$id.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "installed $id for $(id -un): $exe"
