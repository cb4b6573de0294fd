"""The start-up check for Qt's X11 libraries: real ELF files through the real dynamic loader."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gemtune_desktop import platform_check as pc

DEBIAN = 'PRETTY_NAME="Debian GNU/Linux 12"\nID=debian\n'
UBUNTU = 'ID=ubuntu\nID_LIKE=debian\n'
FEDORA = 'ID=fedora\n'
ARCH = 'ID=arch\n'
MINT = 'ID=linuxmint\nID_LIKE="ubuntu debian"\n'


def _library_needing(tmp_path: Path, soname: str) -> Path:
    """A real shared library that links to ``soname``, which then no longer exists."""
    if shutil.which("gcc") is None or shutil.which("ldd") is None:
        pytest.skip("needs gcc and ldd to build a real ELF file")
    stub_dir = tmp_path / "stub"
    stub_dir.mkdir()
    (stub_dir / "stub.c").write_text("int stub_symbol(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text("int stub_symbol(void); int plugin(void) { return stub_symbol(); }\n")
    link_name = stub_dir / ("lib" + soname.split(".so")[0].removeprefix("lib") + ".so")
    subprocess.run(["gcc", "-shared", "-fPIC", f"-Wl,-soname,{soname}", "-o", str(link_name),
                    str(stub_dir / "stub.c")], check=True)
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-Wl,--no-as-needed", "-o", str(plugin), str(tmp_path / "plugin.c"),
                    f"-L{stub_dir}", "-l" + link_name.stem.removeprefix("lib")], check=True)
    shutil.rmtree(stub_dir)
    return plugin


def test_a_missing_library_is_found_through_the_loader(tmp_path: Path) -> None:
    plugin = _library_needing(tmp_path, "libgemtune-check-missing.so.7")
    missing = pc.check(plugin, os_release=DEBIAN)
    assert missing is not None
    assert missing.libraries == ("libgemtune-check-missing.so.7",)
    text = missing.message()
    assert "libgemtune-check-missing.so.7" in text
    assert "package manager" in text  # no package known for it: says what to look for instead of guessing


def test_a_complete_plugin_reports_nothing(tmp_path: Path) -> None:
    if shutil.which("gcc") is None or shutil.which("ldd") is None:
        pytest.skip("needs gcc and ldd")
    (tmp_path / "ok.c").write_text("int ok(void) { return 0; }\n")
    plugin = tmp_path / "libok.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugin), str(tmp_path / "ok.c")], check=True)
    assert pc.check(plugin, os_release=DEBIAN) is None


@pytest.mark.parametrize(("release", "command"), [
    (DEBIAN, "apt-get install -y libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0"),
    (UBUNTU, "apt-get install -y libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0"),
    (MINT, "apt-get install -y libxcb-icccm4 libxcb-keysyms1 libxcb-xinerama0"),
    (FEDORA, "dnf install -y xcb-util-wm xcb-util-keysyms libxcb"),
    (ARCH, "pacman -S --needed xcb-util-wm xcb-util-keysyms libxcb"),
])
def test_the_message_names_the_libraries_and_the_exact_command(release: str, command: str) -> None:
    # The gap a new user hit on a bare Linux desktop.
    libs = ("libxcb-icccm.so.4", "libxcb-keysyms.so.1", "libxcb-xinerama.so.0")
    missing = pc.Missing(libs, pc.package_manager(release))
    text = missing.message()
    assert all(lib in text for lib in libs)
    assert command in text
    assert "could not load the Qt platform plugin" not in text


def test_only_the_x11_platform_is_checked() -> None:
    linux = pc.sys.platform.startswith("linux")
    assert pc.uses_xcb({"QT_QPA_PLATFORM": "offscreen"}) is False
    assert pc.uses_xcb({"QT_QPA_PLATFORM": "xcb"}) is linux
    assert pc.uses_xcb({"WAYLAND_DISPLAY": "wayland-0", "XDG_SESSION_TYPE": "wayland"}) is False
    assert pc.uses_xcb({"DISPLAY": ":0"}) is linux


def test_a_clean_result_is_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if shutil.which("gcc") is None or shutil.which("ldd") is None:
        pytest.skip("needs gcc and ldd")
    (tmp_path / "ok.c").write_text("int ok(void) { return 0; }\n")
    plugin = tmp_path / "libqxcb.so"
    subprocess.run(["gcc", "-shared", "-fPIC", "-o", str(plugin), str(tmp_path / "ok.c")], check=True)
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setattr(pc, "xcb_plugin", lambda qt_root=None: plugin)
    calls: list[Path] = []
    real = pc.missing_libraries
    monkeypatch.setattr(pc, "missing_libraries", lambda p: calls.append(p) or real(p))
    cache = tmp_path / "cache"
    assert pc.check_once(cache) is None
    assert pc.check_once(cache) is None
    assert len(calls) == 1  # the second start reads the stamp instead of running the loader again
