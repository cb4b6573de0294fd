#!/usr/bin/env sh
# Add GemTune Desktop (this unpacked folder) to the desktop's application menu for the current user.
# Run it from anywhere: sh /path/to/gemtune-desktop/install.sh   (uninstall: sh install.sh --remove)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}
if [ "${1:-}" = "--remove" ]; then
  rm -f "$DATA/applications/gemtune-desktop.desktop" "$DATA/mime/packages/gemtune-desktop-mime.xml"
  find "$DATA/icons/hicolor" -name 'gemtune-desktop.*' -delete 2>/dev/null || true
  echo "GemTune Desktop removed from the application menu."
  exit 0
fi
mkdir -p "$DATA/applications" "$DATA/mime/packages"
cp -R "$HERE/share/icons/hicolor" "$DATA/icons/" 2>/dev/null || { mkdir -p "$DATA/icons"; cp -R "$HERE/share/icons/hicolor" "$DATA/icons/"; }
sed -e "s|^Exec=.*|Exec=\"$HERE/gemtune-desktop\" %f|" -e "s|^TryExec=.*|TryExec=$HERE/gemtune-desktop|" \
  "$HERE/share/applications/gemtune-desktop.desktop" > "$DATA/applications/gemtune-desktop.desktop"
cp "$HERE/share/mime/packages/gemtune-desktop-mime.xml" "$DATA/mime/packages/"
command -v update-mime-database >/dev/null 2>&1 && update-mime-database "$DATA/mime" || true
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "GemTune Desktop added to the application menu (from $HERE)."
