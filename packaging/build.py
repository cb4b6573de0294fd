"""Build the packaged GemTune Desktop for the operating system this runs on (PyInstaller, one folder).

    python3 dev.py build              # the usual way: sets up .venv with the build extra, then runs this
    .venv/bin/python packaging/build.py [--clean] [--archive]

Output (kept out of git):
    Linux    packaging/dist/gemtune-desktop/        run ./gemtune-desktop; ./install.sh adds it to the app menu
    Windows  packaging/dist/gemtune-desktop/        "GemTune Desktop.exe" (+ gemtune-desktop-cli.exe)
    macOS    packaging/dist/GemTune Desktop.app

``--archive`` also writes a .tar.gz (Linux), .zip (Windows) or .zip of the .app (macOS) next to it.
PyInstaller does not cross-compile: build each platform on that platform.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
DIST = PACKAGING / "dist"
WORK = PACKAGING / "build"
SPEC = PACKAGING / "gemtune-desktop.spec"
APP_ID = "gemtune-desktop"
APP_NAME = "GemTune Desktop"


def output_path() -> Path:
    """The folder (or .app bundle) the build produces on this OS."""
    if sys.platform == "darwin":
        return DIST / f"{APP_NAME}.app"
    return DIST / APP_ID


def executable_path() -> Path:
    """The main executable inside the build."""
    if sys.platform == "darwin":
        return output_path() / "Contents" / "MacOS" / APP_NAME
    if sys.platform.startswith("win"):
        return output_path() / f"{APP_NAME}.exe"
    return output_path() / APP_ID


def ensure_icons() -> None:
    needed = [PACKAGING / "icons" / f"{APP_ID}.ico", PACKAGING / "icons" / f"{APP_ID}.icns",
              ROOT / "resources" / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png"]
    svg = ROOT / "resources" / "icons" / "gemtune.svg"
    if all(p.is_file() and p.stat().st_mtime >= svg.stat().st_mtime for p in needed):
        return
    subprocess.check_call([sys.executable, str(PACKAGING / "make_icons.py")], cwd=ROOT)


def windows_version_info(version: str) -> str:
    """The version resource of the Windows executables, in PyInstaller's ``--version-file`` syntax."""
    numbers = ([int(p) for p in version.split(".")[:4] if p.isdigit()] + [0, 0, 0, 0])[:4]
    quad = tuple(numbers)
    strings = {"CompanyName": "GemTune Desktop team", "FileDescription": APP_NAME, "FileVersion": version,
               "InternalName": APP_ID, "LegalCopyright": "Apache-2.0", "OriginalFilename": f"{APP_NAME}.exe",
               "ProductName": APP_NAME, "ProductVersion": version}
    table = ",\n        ".join(f"StringStruct({k!r}, {v!r})" for k, v in strings.items())
    return (f"VSVersionInfo(\n"
            f"  ffi=FixedFileInfo(filevers={quad}, prodvers={quad}, mask=0x3f, flags=0x0, OS=0x40004,\n"
            f"                    fileType=0x1, subtype=0x0, date=(0, 0)),\n"
            f"  kids=[StringFileInfo([StringTable('040904B0', [\n        {table}])]),\n"
            f"        VarFileInfo([VarStruct('Translation', [1033, 1200])])]\n)\n")


def write_windows_version_info(path: Path) -> Path:
    sys.path.insert(0, str(ROOT))
    from gemtune_desktop import __version__

    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(windows_version_info(__version__), encoding="utf-8")
    return path


def add_linux_integration(folder: Path) -> None:
    """The .desktop entry, MIME type, icons and an installer script beside the Linux executable."""
    share = folder / "share"
    (share / "applications").mkdir(parents=True, exist_ok=True)
    (share / "mime" / "packages").mkdir(parents=True, exist_ok=True)
    shutil.copy2(PACKAGING / "linux" / f"{APP_ID}.desktop", share / "applications")
    shutil.copy2(PACKAGING / "linux" / f"{APP_ID}-mime.xml", share / "mime" / "packages")
    icons = share / "icons" / "hicolor"
    if icons.exists():
        shutil.rmtree(icons)
    shutil.copytree(ROOT / "resources" / "icons" / "hicolor", icons)
    shutil.copy2(PACKAGING / "linux" / "install.sh", folder / "install.sh")
    (folder / "install.sh").chmod(0o755)


def make_archive(path: Path) -> Path:
    from gemtune_desktop import __version__

    system = {"darwin": "macos", "win32": "windows"}.get(sys.platform, "linux")
    base = DIST / f"{APP_ID}-{__version__}-{system}-{platform.machine().lower()}"
    if system == "macos":  # ditto keeps the bundle's symlinks and permissions, which zipfile would not
        target = Path(f"{base}.zip")
        subprocess.check_call(["ditto", "-c", "-k", "--sequesterRsrc", "--keepParent", str(path), str(target)])
        return target
    fmt = "gztar" if system == "linux" else "zip"
    return Path(shutil.make_archive(str(base), fmt, root_dir=path.parent, base_dir=path.name))


def folder_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the packaged app for this OS with PyInstaller.")
    parser.add_argument("--clean", action="store_true", help="discard PyInstaller's cache and rebuild everything")
    parser.add_argument("--archive", action="store_true", help="also write a .tar.gz/.zip of the build")
    args = parser.parse_args(argv)
    try:
        import PyInstaller  # noqa: F401
    except ModuleNotFoundError:
        print("PyInstaller is not installed: run `python3 dev.py build` (it installs the build extra), "
              "or `.venv/bin/pip install pyinstaller`.", file=sys.stderr)
        return 2
    sys.path.insert(0, str(ROOT))
    started = time.monotonic()
    ensure_icons()
    command = [sys.executable, "-m", "PyInstaller", str(SPEC), "--noconfirm", "--log-level", "WARN",
               "--distpath", str(DIST), "--workpath", str(WORK)]
    if args.clean:
        command.append("--clean")
    code = subprocess.call(command, cwd=ROOT)
    if code != 0:
        print(f"PyInstaller failed (exit code {code}).", file=sys.stderr)
        return code
    out = output_path()
    if sys.platform.startswith("linux"):
        add_linux_integration(out)
    print(f"Built {out.relative_to(ROOT)} in {time.monotonic() - started:.0f} s "
          f"({folder_size(out) / 1e6:.0f} MB). Run: {executable_path()}")
    if args.archive:
        archive = make_archive(out)
        print(f"Archive: {archive.relative_to(ROOT)} ({archive.stat().st_size / 1e6:.0f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
