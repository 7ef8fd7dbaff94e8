"""`salvus-local import FILE`, run as a user runs it: a real process on worksheets written by hand."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import nbformat

from tests.worksheets.samples import write_samples


def run_import(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "salvus_local", "import", str(path)], capture_output=True,
                          text=True, timeout=120)


def test_cli_imports_both_formats(tmp_path: Path) -> None:
    paths = write_samples(tmp_path)
    for role, expected in (("sws", "Intégrales.ipynb"), ("sagews", "work sheet.ipynb")):
        digest = hashlib.sha256(paths[role].read_bytes()).hexdigest()
        done = run_import(paths[role])
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == str(tmp_path / expected)
        nb = nbformat.read(tmp_path / expected, as_version=4)
        nbformat.validate(nb)
        assert len(nb.cells) >= 5
        assert hashlib.sha256(paths[role].read_bytes()).hexdigest() == digest


def test_cli_damaged_file_one_line_exit_2_nothing_written(tmp_path: Path) -> None:
    paths = write_samples(tmp_path)
    listing = sorted(p.name for p in tmp_path.iterdir())
    for role in ("truncated_sws", "truncated_sagews", "notar_sws", "unclosed_sws"):
        done = run_import(paths[role])
        assert done.returncode == 2, done
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and "nothing was written" in lines[0], done.stderr
        assert "Traceback" not in done.stderr
    missing = run_import(tmp_path / "missing.sws")
    assert missing.returncode == 2 and "no such file" in missing.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == listing
