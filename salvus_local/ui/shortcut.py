"""A menu launcher for the desktop window: ``salvus-local desktop --install-shortcut``.

Linux and other XDG desktops (GNOME, KDE, Xfce, …): a ``salvus-local.desktop`` entry in
``$XDG_DATA_HOME/applications`` (default ``~/.local/share/applications``) whose ``Exec`` runs
``salvus-local desktop`` of THIS installation, and the app icon in
``$XDG_DATA_HOME/icons/hicolor/{scalable,48x48,256x256}/apps``.  Nothing outside the user's own
data dir is touched.  macOS and Windows have no such menu files; there we print what to do.
"""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

APP_ID = "salvus-local"
ICONS = Path(__file__).resolve().parent / "icons"
# (file shipped in ui/icons, folder under hicolor) — a scalable icon, plus the 48px PNG the icon
# theme spec asks every application to install and a large one for docks and app grids.
ICON_FILES = [("salvus-local.svg", "scalable"), ("salvus-local-48.png", "48x48"), ("salvus-local-256.png", "256x256")]


class ShortcutError(Exception):
    """The launcher could not be written or removed (message says which file and why)."""


def data_home() -> Path:
    """$XDG_DATA_HOME when it is an absolute path (as the XDG spec requires), else ~/.local/share."""
    value = os.environ.get("XDG_DATA_HOME", "")
    return Path(value) if value and os.path.isabs(value) else Path.home() / ".local" / "share"


def launcher_command(data_dir: str | None = None) -> list[str]:
    """argv that starts this installation's desktop window (the console script, else python -m)."""
    script = Path(sys.executable).parent / APP_ID
    argv = [str(script)] if script.is_file() else [sys.executable, "-m", "salvus_local"]
    argv.append("desktop")
    if data_dir:
        argv += ["--data-dir", os.path.abspath(data_dir)]
    return argv


def _exec_arg(arg: str) -> str:
    """Quote one argument for a desktop entry's Exec key (Desktop Entry spec, "The Exec key")."""
    arg = arg.replace("%", "%%")  # % starts a field code
    if arg and not any(c in arg for c in ' \t\n"\'\\><~|&;$*?#()`='):
        return arg
    quoted = "".join("\\" + c if c in '"`$\\' else c for c in arg)
    # Exec is also a string value, whose own escape rule doubles every backslash once more.
    return '"' + quoted.replace("\\", "\\\\") + '"'


def desktop_entry(argv: list[str]) -> str:
    """The text of salvus-local.desktop for a launcher running argv."""
    lines = [
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.0",
        "Name=Salvus Local",
        "GenericName=Sage Notebook",
        "Comment=SageMath and Python notebooks on this computer",
        "Exec=" + " ".join(_exec_arg(a) for a in argv),
        f"TryExec={_exec_arg(argv[0])}",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Education;Math;",
        "Keywords=Sage;SageMath;notebook;Jupyter;mathematics;",
        "StartupNotify=true",
    ]
    return "\n".join(lines) + "\n"


def shortcut_paths(base: Path | None = None) -> list[Path]:
    """Every file install() writes: the .desktop entry first, then the icons."""
    base = base or data_home()
    paths = [base / "applications" / f"{APP_ID}.desktop"]
    for name, size in ICON_FILES:
        paths.append(base / "icons" / "hicolor" / size / "apps" / (APP_ID + Path(name).suffix))
    return paths


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write atomically (temp file in the same folder, then rename)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except OSError as exc:
        raise ShortcutError(f"cannot write {path}: {exc.strerror or exc}") from None


def _refresh_menu(applications: Path) -> None:
    """Ask the desktop to re-read its menu when the tool exists; menus also notice on their own."""
    tool = shutil.which("update-desktop-database")
    if tool:
        subprocess.run([tool, "-q", str(applications)], check=False, capture_output=True, timeout=60)


def install(data_dir: str | None = None, base: Path | None = None) -> list[Path]:
    """Write the .desktop entry and icons under base (default $XDG_DATA_HOME); return their paths."""
    entry, *icon_paths = shortcut_paths(base)
    for (name, _size), target in zip(ICON_FILES, icon_paths):
        _write(target, (ICONS / name).read_bytes())
    # The entry goes last, so a menu never shows a launcher whose icon is not there yet.
    _write(entry, desktop_entry(launcher_command(data_dir)).encode(), 0o755)
    _refresh_menu(entry.parent)
    return [entry, *icon_paths]


def uninstall(base: Path | None = None) -> list[Path]:
    """Remove what install() wrote; return the paths that existed and are gone now."""
    removed = []
    for path in shortcut_paths(base):
        try:
            path.unlink()
            removed.append(path)
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise ShortcutError(f"cannot remove {path}: {exc.strerror or exc}") from None
    if removed:
        _refresh_menu(removed[0].parent)
    return removed


def other_platform_help(platform: str, data_dir: str | None = None) -> str | None:
    """What to do instead on macOS or Windows (None on XDG systems, where install() works)."""
    command = shlex.join(launcher_command(data_dir))
    if platform == "darwin":
        return ("macOS has no .desktop menu entries, so no launcher was installed. To start Salvus Local from the "
                "Dock: open Automator, make a new Application with a 'Run Shell Script' action running\n"
                f"    {command}\nsave it in Applications, and drag it to the Dock.")
    if platform.startswith("win") or platform == "cygwin":
        return ("Windows has no .desktop menu entries, so no launcher was installed. To add one: right-click the "
                "desktop, New > Shortcut, and enter\n"
                f"    {subprocess.list2cmdline(launcher_command(data_dir))}\n"
                "then move the shortcut into the Start menu folder (Win+R, shell:programs).")
    return None


def desktop_window_available() -> bool:
    """True when pywebview (the desktop window's toolkit) is importable here."""
    return importlib.util.find_spec("webview") is not None
