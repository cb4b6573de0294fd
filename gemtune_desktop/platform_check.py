"""Find the system libraries Qt's X11 platform plugin needs before Qt tries to load it.

When a library that Qt's ``xcb`` plugin links to is missing, Qt aborts with "could not load the Qt
platform plugin "xcb" … found", which names the plugin, not the library, and tells a new user
nothing they can act on. This module asks the dynamic loader (``ldd``) which of the plugin's
libraries are missing, and turns them into one plain message with the exact install command for
the distribution (apt, dnf, pacman).

Standard library only, and no Qt: ``dev.py run`` and the packaged app call it before Qt starts.
The packaged app runs it once per installation and remembers a clean result (a stamp in the cache
folder), so later starts pay nothing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

# soname → package per package manager. Sources: Debian/Ubuntu (packages.debian.org), Fedora
# (packages.fedoraproject.org), Arch (archlinux.org/packages); the Qt 6 X11 requirements page
# (https://doc.qt.io/qt-6/linux-requirements.html) lists the xcb libraries.
PACKAGES: dict[str, tuple[str, str, str]] = {
    # soname: (apt, dnf, pacman)
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util", "xcb-util"),
    "libxcb-randr.so.0": ("libxcb-randr0", "libxcb", "libxcb"),
    "libxcb-shape.so.0": ("libxcb-shape0", "libxcb", "libxcb"),
    "libxcb-xinerama.so.0": ("libxcb-xinerama0", "libxcb", "libxcb"),
    "libxcb-xinput.so.0": ("libxcb-xinput0", "libxcb", "libxcb"),
    "libxcb-xkb.so.1": ("libxcb-xkb1", "libxcb", "libxcb"),
    "libxcb-sync.so.1": ("libxcb-sync1", "libxcb", "libxcb"),
    "libxcb-xfixes.so.0": ("libxcb-xfixes0", "libxcb", "libxcb"),
    "libxcb-shm.so.0": ("libxcb-shm0", "libxcb", "libxcb"),
    "libxcb-render.so.0": ("libxcb-render0", "libxcb", "libxcb"),
    "libxcb-glx.so.0": ("libxcb-glx0", "libxcb", "libxcb"),
    "libxcb.so.1": ("libxcb1", "libxcb", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb", "libx11"),
    "libX11.so.6": ("libx11-6", "libX11", "libx11"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon", "libxkbcommon"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl", "libglvnd"),
    "libGL.so.1": ("libgl1", "libglvnd-glx", "libglvnd"),
    "libOpenGL.so.0": ("libopengl0", "libglvnd-opengl", "libglvnd"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype", "freetype2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs", "dbus"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2", "glib2"),
    "libICE.so.6": ("libice6", "libICE", "libice"),
    "libSM.so.6": ("libsm6", "libSM", "libsm"),
}
MANAGERS = ("apt", "dnf", "pacman")
INSTALL = {
    "apt": "apt-get install -y {}",
    "dnf": "dnf install -y {}",
    "pacman": "pacman -S --needed {}",
}
STAMP_NAME = "platform-libraries-ok"


@dataclass(frozen=True)
class Missing:
    """Libraries the plugin needs that the loader cannot find, and how to install them."""

    libraries: tuple[str, ...]
    manager: str | None  # apt | dnf | pacman, or None when the distribution is not recognised

    def packages(self) -> list[str]:
        if self.manager is None:
            return []
        column = MANAGERS.index(self.manager)
        out: list[str] = []
        for lib in self.libraries:
            entry = PACKAGES.get(lib)
            if entry is not None and entry[column] not in out:
                out.append(entry[column])
        return out

    def unknown(self) -> list[str]:
        return [lib for lib in self.libraries if lib not in PACKAGES]

    def message(self) -> str:
        names = ", ".join(self.libraries)
        lines = ["GemTune Desktop cannot open its window: this computer lacks system libraries that the",
                 f"window toolkit (Qt) needs to draw on the screen: {names}.", ""]
        packages = self.packages()
        if packages:
            sudo = "" if _is_root() else "sudo "
            lines += ["Install them with this command, then start GemTune Desktop again:", "",
                      "    " + sudo + INSTALL[str(self.manager)].format(" ".join(packages)), ""]
        else:
            lines += ["Install the packages that provide these libraries with your system's package manager,",
                      "then start GemTune Desktop again.", ""]
        if self.unknown() and packages:
            lines += [f"Also look for the package that provides: {', '.join(self.unknown())}.", ""]
        lines.append("(Qt's list of requirements: https://doc.qt.io/qt-6/linux-requirements.html)")
        return "\n".join(lines)


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def package_manager(os_release: str | None = None) -> str | None:
    """apt, dnf or pacman from /etc/os-release (ID and ID_LIKE), or None."""
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text(encoding="utf-8", errors="replace")
        except OSError:
            os_release = ""
    ids: list[str] = []
    for line in os_release.splitlines():
        key, _, value = line.partition("=")
        if key in ("ID", "ID_LIKE"):
            ids += value.strip().strip('"').lower().split()
    for family, manager in (("debian", "apt"), ("ubuntu", "apt"), ("fedora", "dnf"), ("rhel", "dnf"),
                            ("centos", "dnf"), ("arch", "pacman")):
        if family in ids:
            return manager
    for manager, tool in (("apt", "apt-get"), ("dnf", "dnf"), ("pacman", "pacman")):
        if shutil.which(tool):
            return manager
    return None


def xcb_plugin(qt_root: Path | None = None) -> Path | None:
    """Path of Qt's xcb platform plugin (a source checkout's venv or a PyInstaller bundle)."""
    roots: list[Path] = []
    if qt_root is not None:
        roots.append(qt_root)
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        roots.append(Path(bundle) / "PySide6" / "Qt")
    spec = importlib.util.find_spec("PySide6")  # finds the package without importing it
    if spec is not None and spec.submodule_search_locations:
        roots += [Path(p) / "Qt" for p in spec.submodule_search_locations]
    for root in roots:
        plugin = root / "plugins" / "platforms" / "libqxcb.so"
        if plugin.is_file():
            return plugin
    return None


def missing_libraries(binary: Path) -> tuple[str, ...]:
    """The sonames ``ldd`` reports as "not found" for ``binary`` (its dependencies' included)."""
    ldd = shutil.which("ldd")
    if ldd is None:
        return ()
    import subprocess  # only on the first start (later starts read the stamp)

    try:
        out = subprocess.run([ldd, str(binary)], capture_output=True, text=True, timeout=20,
                             env={**os.environ, "LC_ALL": "C"}).stdout
    except (OSError, subprocess.SubprocessError):
        return ()
    found: list[str] = []
    for line in out.splitlines():
        name, arrow, where = line.strip().partition("=>")
        if arrow and where.strip() == "not found" and name.strip() not in found:
            found.append(name.strip())
    return tuple(found)


def uses_xcb(env: dict[str, str] | None = None) -> bool:
    """Whether Qt would start on the X11 (xcb) platform plugin in this environment."""
    env = dict(os.environ) if env is None else env
    if not sys.platform.startswith("linux"):
        return False
    platform = env.get("QT_QPA_PLATFORM", "").split(":")[0].split(";")[0].strip()
    if platform:
        return platform == "xcb"
    return not (env.get("WAYLAND_DISPLAY") and env.get("XDG_SESSION_TYPE") == "wayland")


def check(plugin: Path | None = None, os_release: str | None = None) -> Missing | None:
    """The missing libraries of the xcb plugin, or None when nothing is missing (or nothing to check)."""
    plugin = plugin or xcb_plugin()
    if plugin is None:
        return None
    missing = missing_libraries(plugin)
    return Missing(missing, package_manager(os_release)) if missing else None


def check_once(cache_dir: Path) -> Missing | None:
    """:func:`check`, skipped after a clean result for the same plugin (a stamp in ``cache_dir``)."""
    if not uses_xcb():
        return None
    plugin = xcb_plugin()
    if plugin is None:
        return None
    stamp = cache_dir / STAMP_NAME
    key = f"{plugin}\n{plugin.stat().st_mtime_ns}\n"
    try:
        if stamp.read_text(encoding="utf-8") == key:
            return None
    except OSError:
        pass
    result = check(plugin)
    if result is None:
        try:
            cache_dir.mkdir(parents=True, exist_ok=True)
            stamp.write_text(key, encoding="utf-8")
        except OSError:
            pass
    return result


def tell_user(missing: Missing) -> None:
    """Print the message on stderr, and show it in a dialog when a desktop dialog tool exists."""
    import subprocess

    text = missing.message()
    print(text, file=sys.stderr)
    for tool, args in (("zenity", ["--error", "--no-wrap", "--title", "GemTune Desktop", "--text", text]),
                       ("kdialog", ["--title", "GemTune Desktop", "--error", text]),
                       ("xmessage", ["-center", text])):
        path = shutil.which(tool)
        if path is None:
            continue
        try:
            subprocess.run([path, *args], timeout=600, check=False)
            return
        except (OSError, subprocess.SubprocessError):
            continue


def main() -> int:
    """``python -m gemtune_desktop.platform_check``: exit 1 with the message when libraries are missing."""
    if not uses_xcb():
        return 0
    missing = check()
    if missing is None:
        return 0
    print(missing.message(), file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
