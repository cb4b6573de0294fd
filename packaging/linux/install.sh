#!/usr/bin/env sh
# Add GemTune Desktop (this unpacked folder) to the desktop's application menu for the current user:
# menu entry, icons in every size, and the .gemtune file type. Nothing outside your home folder is touched.
#   sh /path/to/gemtune-desktop/install.sh            add
#   sh /path/to/gemtune-desktop/install.sh --remove   remove again
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}

refresh() {
  if command -v update-mime-database >/dev/null 2>&1; then update-mime-database "$DATA/mime" >/dev/null 2>&1 || true; fi
  if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database "$DATA/applications" >/dev/null 2>&1 || true; fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -f -t "$DATA/icons/hicolor" >/dev/null 2>&1 || true; fi
}

if [ "${1:-}" = "--remove" ]; then
  rm -f "$DATA/applications/gemtune-desktop.desktop" "$DATA/mime/packages/gemtune-desktop-mime.xml"
  if [ -d "$DATA/icons/hicolor" ]; then find "$DATA/icons/hicolor" -name 'gemtune-desktop.*' -type f -exec rm -f {} +; fi
  refresh
  echo "GemTune Desktop removed from the application menu."
  exit 0
fi

mkdir -p "$DATA/applications" "$DATA/mime/packages" "$DATA/icons/hicolor"
cp -R "$HERE/share/icons/hicolor/." "$DATA/icons/hicolor/"
sed -e "s|^Exec=.*|Exec=\"$HERE/gemtune-desktop\" %f|" -e "s|^TryExec=.*|TryExec=$HERE/gemtune-desktop|" \
  "$HERE/share/applications/gemtune-desktop.desktop" > "$DATA/applications/gemtune-desktop.desktop"
cp "$HERE/share/mime/packages/gemtune-desktop-mime.xml" "$DATA/mime/packages/"
refresh
echo "GemTune Desktop added to the application menu (from $HERE)."
