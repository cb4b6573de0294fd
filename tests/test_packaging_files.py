"""The files the packaged builds and the first run depend on: spec, build script, desktop entry, icons, samples."""

from __future__ import annotations

import ast
import configparser
import csv
import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from gemtune_desktop import APP_ID, __version__
from gemtune_desktop.core.examples import Split
from gemtune_desktop.resources import read_json, resource_path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"


def test_spec_and_build_script_are_valid_python_naming_the_entry_and_resources() -> None:
    spec = (PACKAGING / "gemtune-desktop.spec").read_text(encoding="utf-8")
    ast.parse(spec)
    for needle in ("launcher.py", '"resources"', "google.genai", "pyqtgraph", "console=False", "BUNDLE(",
                   "gemtune-desktop.icns", "gemtune-desktop.ico", "write_windows_version_info", "copy_metadata"):
        assert needle in spec, needle
    ast.parse((PACKAGING / "build.py").read_text(encoding="utf-8"))
    ast.parse((PACKAGING / "launcher.py").read_text(encoding="utf-8"))
    gitignore = (ROOT / ".gitignore").read_text(encoding="utf-8").split()
    assert "packaging/build/" in gitignore and "packaging/dist/" in gitignore


def test_windows_version_resource_names_the_app_and_version() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gemtune_build", PACKAGING / "build.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    text = build.windows_version_info("1.2.3")
    calls: dict[str, list[tuple]] = {}

    def recorder(name: str):
        def make(*args, **kwargs):
            calls.setdefault(name, []).append((args, kwargs))
            return name
        return make

    names = ("VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct", "VarFileInfo",
             "VarStruct")
    eval(text, {"__builtins__": {}}, {n: recorder(n) for n in names})  # the syntax PyInstaller evaluates
    assert calls["FixedFileInfo"][0][1]["filevers"] == (1, 2, 3, 0)
    strings = dict(args for args, _ in calls["StringStruct"])
    assert strings["ProductName"] == "GemTune Desktop" and strings["ProductVersion"] == "1.2.3"
    assert strings["OriginalFilename"] == "GemTune Desktop.exe"


def test_dev_py_build_runs_packaging_build() -> None:
    dev = (ROOT / "dev.py").read_text(encoding="utf-8")
    assert '"packaging" / "build.py"' in dev


def test_build_script_reports_missing_pyinstaller_plainly() -> None:
    # sys.modules[name] = None makes `import PyInstaller` fail as it does in a venv without the build extra.
    code = ("import runpy, sys; sys.modules['PyInstaller'] = None; sys.argv = ['build.py']; "
            f"runpy.run_path({str(PACKAGING / 'build.py')!r}, run_name='__main__')")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "PyInstaller is not installed" in proc.stderr and "Traceback" not in proc.stderr


def test_linux_desktop_entry() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(PACKAGING / "linux" / f"{APP_ID}.desktop", encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Name"] == "GemTune Desktop"
    assert entry["Exec"].split()[0] == APP_ID
    assert entry["Icon"] == APP_ID
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")
    assert "application/x-gemtune-project" in entry["MimeType"]
    mime = (PACKAGING / "linux" / f"{APP_ID}-mime.xml").read_text(encoding="utf-8")
    assert 'pattern="*.gemtune"' in mime


@pytest.mark.parametrize("size", [16, 22, 24, 32, 48, 64, 128, 256, 512])
def test_icons_in_the_usual_sizes(size: int) -> None:
    png = ROOT / "resources" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (size, size)


def test_windows_and_macos_icon_containers() -> None:
    ico = (PACKAGING / "icons" / f"{APP_ID}.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind) == (0, 1) and count >= 6
    sizes = {ico[6 + 16 * i] or 256 for i in range(count)}
    assert {16, 32, 48, 256} <= sizes
    icns = (PACKAGING / "icons" / f"{APP_ID}.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    kinds, offset = set(), 8
    while offset < len(icns):
        kinds.add(icns[offset:offset + 4])
        offset += struct.unpack(">I", icns[offset + 4:offset + 8])[0]
    assert {b"ic07", b"ic08", b"ic09", b"ic10"} <= kinds


def test_smoke_test_script_checks_version_check_and_window() -> None:
    script = (PACKAGING / "smoke_test.sh").read_text(encoding="utf-8")
    assert script.startswith("#!/usr/bin/env bash")
    for needle in ("--version", " check ", "QT_QPA_PLATFORM=offscreen", "GEMTUNE_EXIT_AFTER_SHOW", "GEMTUNE_HOME"):
        assert needle in script, needle
    assert (PACKAGING / "smoke_test.sh").stat().st_mode & 0o111


def _csv_rows(name: str) -> list[dict[str, str]]:
    with resource_path("samples", name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_number_sequence_sample_extends_googles_tutorial() -> None:
    rows = _csv_rows("number-sequence.csv")
    assert len(rows) >= 40
    pairs = {(r["input"], r["output"]) for r in rows}
    for pair in (("1", "2"), ("one", "two"), ("seven", "eight"), ("IV", "V"), ("January", "February")):
        assert pair in pairs
    assert len({r["input"] for r in rows}) == len(rows)  # no duplicate inputs
    assert all(r["input"].strip() and r["output"].strip() for r in rows)
    jsonl = [json.loads(line) for line in resource_path("samples", "number-sequence.jsonl").read_text(
        encoding="utf-8").splitlines()]
    assert [(r["text_input"], r["output"]) for r in jsonl] == [(r["input"], r["output"]) for r in rows]


def test_support_sample_is_a_small_balanced_classification_set() -> None:
    rows = _csv_rows("support-tickets.csv")
    assert 50 <= len(rows) <= 100
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["output"]] = counts.get(r["output"], 0) + 1
    assert len(counts) >= 5 and min(counts.values()) >= 8


def test_samples_read_by_the_apps_own_importer() -> None:
    from gemtune_desktop.core.formats.jsonio import read_jsonl
    from gemtune_desktop.core.formats.tabular import read_delimited

    for item in read_json("samples", "index.json"):
        data = resource_path("samples", item["file"]).read_bytes()
        result = read_delimited(data, item["file"], prefer=None, mapping=None, token=None)
        assert not result.needs_mapping, item["file"]
        assert len(result.examples) == len(_csv_rows(item["file"]))
        assert not [f for f in result.findings if getattr(f, "severity", "") == "error"]
        splits = [e.split for e in result.examples]
        assert splits.count(Split.VALIDATION) == sum(r["split"] == "validation" for r in _csv_rows(item["file"])) > 0
    data = resource_path("samples", "number-sequence.jsonl").read_bytes()
    result = read_jsonl(io.BytesIO(data), "number-sequence.jsonl", len(data), None)
    assert len(result.examples) == len(_csv_rows("number-sequence.csv"))


def test_version_is_one_place() -> None:
    spec = (PACKAGING / "gemtune-desktop.spec").read_text(encoding="utf-8")
    assert "__version__" in spec and __version__ not in spec  # read from the package, never hard-coded


def test_linux_install_script_adds_and_removes_the_menu_entry(tmp_path: Path) -> None:
    import shutil

    bundle = tmp_path / "gemtune-desktop"
    (bundle / "share" / "applications").mkdir(parents=True)
    (bundle / "share" / "mime" / "packages").mkdir(parents=True)
    shutil.copy(PACKAGING / "linux" / f"{APP_ID}.desktop", bundle / "share" / "applications")
    shutil.copy(PACKAGING / "linux" / f"{APP_ID}-mime.xml", bundle / "share" / "mime" / "packages")
    shutil.copytree(ROOT / "resources" / "icons" / "hicolor", bundle / "share" / "icons" / "hicolor")
    shutil.copy(PACKAGING / "linux" / "install.sh", bundle / "install.sh")
    data = tmp_path / "xdg"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_DATA_HOME": str(data)}
    subprocess.run(["sh", str(bundle / "install.sh")], check=True, env=env, capture_output=True, timeout=60)
    entry = (data / "applications" / f"{APP_ID}.desktop").read_text(encoding="utf-8")
    assert f'Exec="{bundle}/gemtune-desktop" %f' in entry
    assert (data / "icons" / "hicolor" / "48x48" / "apps" / f"{APP_ID}.png").is_file()
    assert (data / "mime" / "packages" / f"{APP_ID}-mime.xml").is_file()
    subprocess.run(["sh", str(bundle / "install.sh"), "--remove"], check=True, env=env, capture_output=True,
                   timeout=60)
    assert not [p for p in data.rglob("*") if p.is_file() and p.name.startswith(APP_ID)]
