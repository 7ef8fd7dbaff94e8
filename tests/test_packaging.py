"""Packaging checks: the README documents every setting, the wheel ships what it must.

Run ``python tests/test_packaging.py --write`` to rewrite the README's settings table from Config.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from salvus_local.config import ENV_PREFIX, Config


def default_text(f: dataclasses.Field) -> str:
    """How a setting's default reads in the README."""
    if f.name == "data_dir":
        return "the user data dir (`~/.local/share/salvus-local` on Linux)"
    default = f.default if f.default is not dataclasses.MISSING else f.default_factory()
    if isinstance(default, list):
        return "`" + ",".join(default) + "`" if default else "(empty)"
    if isinstance(default, bool):
        return "`true`" if default else "`false`"
    return f"`{default}`" if default != "" else "(empty)"


def settings_table() -> str:
    """Render the README's table of settings from Config."""
    rows = ["| Setting | Environment variable | Default | What it does |", "|---|---|---|---|"]
    for f in Config.settings():
        env = ENV_PREFIX + f.name.upper()
        rows.append(f"| `{f.name}` | `{env}` | {default_text(f)} | {f.metadata['help']} |")
    return "\n".join(rows)


def test_readme_documents_every_setting() -> None:
    """Each Config setting has a README table row with its name and environment variable."""
    text = README.read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    missing = [
        f.name for f in Config.settings()
        if not any(f"| `{f.name}` | `{ENV_PREFIX}{f.name.upper()}` |" in row for row in rows)
    ]
    assert not missing, (
        f"README.md lacks settings {missing}; regenerate the table with `python tests/test_packaging.py --write`"
    )


def test_readme_gives_the_two_commands_and_the_benchmark() -> None:
    """A fresh clone needs exactly `make run` and `make test`; the bench table is shown."""
    text = README.read_text(encoding="utf-8")
    assert "make run" in text and "make test" in text
    assert "| Measurement | Target | salvus_local | jupyter_server |" in text


def test_readme_install_section() -> None:
    """Users install with pip, or with Sage's pip inside Sage; the fresh-clone commands stay."""
    text = README.read_text(encoding="utf-8")
    for command in ('pip install "salvus-local[sage]"', "sage -pip install salvus-local", "sage-salvus",
                    "make run", "make test", "salvus-local desktop --install-shortcut"):
        assert command in text, command


def copy_source(dest: Path) -> None:
    """Copy what a wheel is built from (no venvs, node_modules or build leftovers)."""
    for name in ("setup.py", "pyproject.toml", "README.md", "LICENSE", "MANIFEST.in"):
        shutil.copy2(ROOT / name, dest / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules", "*.egg-info")
    shutil.copytree(ROOT / "salvus_local", dest / "salvus_local", ignore=ignore)
    if (ROOT / "sync").is_dir():
        shutil.copytree(ROOT / "sync", dest / "sync", ignore=ignore)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    """Build a wheel of a copy of the tree, with a built-asset marker in _static."""
    src = tmp_path_factory.mktemp("src")
    copy_source(src)
    marker = src / "salvus_local" / "_static" / "zz-packaging-test" / "marker.js"
    marker.parent.mkdir(parents=True)
    marker.write_text("// the wheel must carry built assets\n")
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(src)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (path,) = out.glob("salvus_local-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_ships_assets_and_every_module(wheel: zipfile.ZipFile) -> None:
    """Built front-end assets and every .py file of salvus_local end up in the wheel."""
    names = set(wheel.namelist())
    assert "salvus_local/_static/zz-packaging-test/marker.js" in names
    built = ROOT / "salvus_local" / "_static"
    for path in built.rglob("*") if built.is_dir() else []:
        if path.is_file():
            assert path.relative_to(ROOT).as_posix() in names
    modules = {
        p.relative_to(ROOT).as_posix() for p in (ROOT / "salvus_local").rglob("*.py")
        if "__pycache__" not in p.parts and "_static" not in p.parts
    }
    lost = sorted(modules - names)
    assert not lost, f"not in the wheel (a package without __init__.py?): {lost}"
    if (ROOT / "sync" / "__init__.py").exists():
        assert "salvus_sync/__init__.py" in names


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    """Console scripts, license, extras and Python version are declared."""
    dist_info = next(n.split("/")[0] for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    assert "salvus-local = salvus_local.cli:main" in entry_points
    assert "sage-salvus = salvus_local.cli:main" in entry_points
    meta = wheel.read(f"{dist_info}/METADATA").decode()
    assert "License: BSD-3-Clause" in meta or "License-Expression: BSD-3-Clause" in meta
    assert "Requires-Python: >=3.10" in meta
    for extra in ("sage", "desktop", "dev"):
        assert f"Provides-Extra: {extra}" in meta
    assert "Requires-Dist: passagemath-symbolics; extra == \"sage\"" in meta
    assert any(n.endswith("LICENSE") for n in wheel.namelist())


def installed_here() -> bool:
    """True when this interpreter's venv has the console scripts (make setup installs them)."""
    return (BIN / "salvus-local").exists() and (BIN / "sage-salvus").exists()


@pytest.mark.skipif(not installed_here(), reason="salvus-local is not installed in this venv (run make setup)")
@pytest.mark.parametrize("command", [["salvus-local"], ["sage-salvus"], ["-m", "salvus_local"]])
def test_commands_answer_help(command: list[str]) -> None:
    """The console scripts and `python -m salvus_local` print their help."""
    if not (ROOT / "salvus_local" / "cli.py").exists():
        pytest.skip("salvus_local/cli.py is not written yet")
    argv = [sys.executable, *command] if command[0] == "-m" else [str(BIN / command[0])]
    proc = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "--port" in proc.stdout


def test_make_and_scripts_parse() -> None:
    """The Makefile's targets expand, the shell scripts parse, the bench answers --help."""
    if shutil.which("make"):
        for target in ("setup", "run", "test", "system-deps", "bench"):
            proc = subprocess.run(["make", "-n", target], cwd=ROOT, capture_output=True, text=True, check=False)
            assert proc.returncode == 0, proc.stderr
    for script in (".ci/run", "bench/run"):
        assert os.access(ROOT / script, os.X_OK), f"{script} is not executable"
        proc = subprocess.run(["bash", "-n", script], cwd=ROOT, capture_output=True, text=True, check=False)
        assert proc.returncode == 0, proc.stderr
    proc = subprocess.run([sys.executable, "bench.py", "--help"], cwd=ROOT / "bench",
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr


def write_readme_table() -> None:
    """Replace the README's settings table (between its markers) with settings_table()."""
    start, end = "<!-- settings:start -->", "<!-- settings:end -->"
    head, rest = README.read_text(encoding="utf-8").split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{settings_table()}\n{end}{tail}", encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv:
        write_readme_table()
    else:
        print(settings_table())
