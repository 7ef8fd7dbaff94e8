"""`salvus-local desktop --install-shortcut`: a menu launcher with the app's icon, XDG layout, removable."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from salvus_local.ui import shortcut

BIN = Path(sys.executable).parent


def cli(*args: str, xdg: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run salvus-local with XDG_DATA_HOME=xdg (the user's real menu is never touched)."""
    env = {**os.environ, "XDG_DATA_HOME": str(xdg)}
    return subprocess.run([sys.executable, "-m", "salvus_local", *args], env=env, capture_output=True, text=True,
                          timeout=timeout, check=False)


def parse_exec(value: str) -> list[str]:
    """Split a desktop entry's Exec value as a launcher does (string unescape, then the quoting rule)."""
    value = value.replace("\\\\", "\\")
    argv, word, quoted, i, started = [], "", False, 0, False
    while i < len(value):
        c = value[i]
        if quoted and c == "\\":
            word, i = word + value[i + 1], i + 2
            continue
        if c == '"':
            quoted, started = not quoted, True
        elif c == " " and not quoted:
            if started:
                argv.append(word)
            word, started = "", False
        else:
            word, started = word + c, True
        i += 1
    if started:
        argv.append(word)
    return [a.replace("%%", "%") for a in argv]


def read_entry(path: Path) -> dict[str, str]:
    """Key=value pairs of the [Desktop Entry] group."""
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if "=" in line)


def test_install_writes_a_valid_entry_and_icons_then_uninstall_removes_them(tmp_path: Path) -> None:
    xdg = tmp_path / "xdg data"
    proc = cli("desktop", "--install-shortcut", xdg=xdg)
    assert proc.returncode == 0, proc.stderr
    entry_path = xdg / "applications" / "salvus-local.desktop"
    assert f"installed {entry_path}" in proc.stdout
    entry = read_entry(entry_path)
    assert entry["Name"] == "Salvus Local" and entry["Type"] == "Application" and entry["Terminal"] == "false"
    assert entry["Icon"] == "salvus-local"
    icons = {p.relative_to(xdg).as_posix() for p in (xdg / "icons").rglob("*") if p.is_file()}
    assert icons == {"icons/hicolor/scalable/apps/salvus-local.svg", "icons/hicolor/48x48/apps/salvus-local.png",
                     "icons/hicolor/256x256/apps/salvus-local.png"}
    assert (xdg / "icons/hicolor/48x48/apps/salvus-local.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (xdg / "icons/hicolor/scalable/apps/salvus-local.svg").read_bytes()
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry_path)], capture_output=True, text=True, check=False)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout + check.stderr
    # Exec starts THIS installation's desktop window: run it with --help instead of opening a window.
    argv = parse_exec(entry["Exec"])
    assert argv[-1] == "desktop" and Path(argv[0]).is_absolute()
    helped = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert helped.returncode == 0 and "--install-shortcut" in helped.stdout, helped.stderr

    again = cli("desktop", "--install-shortcut", xdg=xdg)  # idempotent
    assert again.returncode == 0, again.stderr
    gone = cli("desktop", "--uninstall-shortcut", xdg=xdg)
    assert gone.returncode == 0 and "removed" in gone.stdout, gone.stderr
    assert not entry_path.exists() and not [p for p in (xdg / "icons").rglob("*") if p.is_file()]
    nothing = cli("desktop", "--uninstall-shortcut", xdg=xdg)
    assert nothing.returncode == 0 and "no Salvus Local menu entry" in nothing.stdout


def test_data_dir_with_awkward_characters_survives_the_exec_quoting(tmp_path: Path) -> None:
    data = tmp_path / 'my "notes" $HOME 100% \\ `x`'
    proc = cli("desktop", "--install-shortcut", "--data-dir", str(data), xdg=tmp_path / "xdg")
    assert proc.returncode == 0, proc.stderr
    entry_path = tmp_path / "xdg" / "applications" / "salvus-local.desktop"
    argv = parse_exec(read_entry(entry_path)["Exec"])
    assert argv[-3:] == ["desktop", "--data-dir", str(data)]
    if shutil.which("desktop-file-validate"):
        check = subprocess.run(["desktop-file-validate", str(entry_path)], capture_output=True, text=True, check=False)
        assert check.returncode == 0, check.stdout + check.stderr


def test_unwritable_menu_folder_is_a_one_line_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    proc = cli("desktop", "--install-shortcut", xdg=blocker / "share")
    assert proc.returncode == 2
    assert proc.stderr.startswith("Error: cannot write ") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_both_flags_at_once_is_refused(tmp_path: Path) -> None:
    proc = cli("desktop", "--install-shortcut", "--uninstall-shortcut", xdg=tmp_path)
    assert proc.returncode == 2 and "not both" in proc.stderr
    assert not (tmp_path / "applications").exists()


@pytest.mark.parametrize(("platform", "words"), [("darwin", "Automator"), ("win32", "New > Shortcut")])
def test_macos_and_windows_say_what_to_do_instead(platform: str, words: str) -> None:
    advice = shortcut.other_platform_help(platform)
    assert advice and words in advice and "desktop" in advice
    assert shortcut.other_platform_help("linux") is None
