"""`salvus-local run / exec / export` as a user runs them, against real servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from tests.conftest import REPO, Server, wait_for

PYTHON_ONLY = {"SALVUS_LOCAL_KERNELS": "python", "SALVUS_LOCAL_KERNEL": "python"}


def cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess:
    """Run salvus-local to completion."""
    clean = {k: v for k, v in os.environ.items() if k != "SALVUS_LOCAL_TOKEN"}
    return subprocess.run([sys.executable, "-m", "salvus_local", *args], cwd=cwd or REPO, capture_output=True,
                          text=True, timeout=timeout, env={**clean, **(env or {})})


def one_line_error(result: subprocess.CompletedProcess, *words: str) -> None:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture(scope="module")
def local(tmp_path_factory) -> Server:
    """A server with its own data dir: the CLI finds it through <data_dir>/run/server.json."""
    data = tmp_path_factory.mktemp("cli-data")
    os.chmod(data, 0o755)
    os.chmod(data.parent, 0o755)
    srv = Server(data_dir=data)
    yield srv
    srv.stop()


def test_exec_uses_the_running_server_of_the_data_dir(local: Server) -> None:
    marker = "clientcli" + os.urandom(4).hex()
    r = cli("exec", "--data-dir", str(local.data_dir), "--kernel", "python", f"print('{marker}'); 6*7")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [marker, "42"]
    # It ran there: the server's computation history has it.
    hits = wait_for(lambda: local.get("/api/search", params={"q": marker}).json()["results"] or None,
                    what="history entry")
    assert any(marker in json.dumps(h) for h in hits)


def test_exec_waits_for_a_busy_server_instead_of_starting_another(local: Server) -> None:
    # Under load a live server may take a while to answer.  The CLI used to give it 10 s, then start a
    # second server on the same data dir and run the code there (found as a flaky test on a loaded machine).
    family = [psutil.Process(local.proc.pid), *psutil.Process(local.proc.pid).children(recursive=True)]
    marker = "busyserver" + os.urandom(4).hex()
    clean = {k: v for k, v in os.environ.items() if k != "SALVUS_LOCAL_TOKEN"}
    for p in family:
        p.suspend()
    spawned: set[str] = set()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "salvus_local", "exec", "--data-dir", str(local.data_dir),
                                 "--kernel", "python", f"print('{marker}'); 6*7"], cwd=REPO, env=clean,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        end = time.monotonic() + 15  # the freeze is the stimulus: longer than the CLI's old 10 s
        while time.monotonic() < end and proc.poll() is None:
            try:
                spawned |= {" ".join(c.cmdline()) for c in psutil.Process(proc.pid).children()}
            except psutil.Error:
                pass
            time.sleep(0.1)
    finally:
        for p in family:
            p.resume()
    out, err = proc.communicate(timeout=600)
    assert not [c for c in spawned if "serve" in c], spawned
    assert proc.returncode == 0, err
    assert out.splitlines() == [marker, "42"]
    wait_for(lambda: local.get("/api/search", params={"q": marker}).json()["results"], what="history entry")


def test_a_private_server_that_cannot_start_is_reported_at_once(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "data"
    not_a_dir.write_text("a file, not a folder")
    # The CLI used to wait for the URL line until its 300 s start deadline after the server had exited.
    r = cli("exec", "--data-dir", str(not_a_dir), "--kernel", "python", "1", env=PYTHON_ONLY, timeout=200)
    one_line_error(r, "could not start a local server")


def test_exec_error_exits_1_with_the_traceback_on_stderr(local: Server) -> None:
    r = cli("exec", "--data-dir", str(local.data_dir), "--kernel", "python", "1/0")
    assert r.returncode == 1
    assert "ZeroDivisionError" in r.stderr and "\x1b[" not in r.stderr  # no colour codes in a pipe


def test_run_streams_output_as_it_comes(local: Server, tmp_path: Path) -> None:
    flag = tmp_path / "go"
    script = tmp_path / "stream.py"
    script.write_text(f"import os, time\nprint('first', flush=True)\n"
                      f"while not os.path.exists({str(flag)!r}): time.sleep(0.05)\nprint('second')\n")
    os.chmod(tmp_path, 0o777)  # the session (another uid under root) may need to look in
    proc = subprocess.Popen([sys.executable, "-m", "salvus_local", "run", "--data-dir", str(local.data_dir),
                             str(script)], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline() == "first\n"  # printed while the script still waits for the flag
    flag.write_text("")
    assert proc.stdout.readline() == "second\n"
    assert proc.wait(120) == 0


def test_run_sage_file(local: Server, tmp_path: Path) -> None:
    kinds = [s["spec"]["language"] for s in local.get("/api/kernelspecs").json()["kernelspecs"].values()]
    if "sage" not in kinds:
        pytest.skip("no Sage here")
    f = tmp_path / "a.sage"
    f.write_text("x = factor(2^64-1)\nprint(x)\n")
    r = cli("run", "--data-dir", str(local.data_dir), str(f))
    assert r.returncode == 0, r.stderr
    assert r.stdout == "3 * 5 * 17 * 257 * 641 * 65537 * 6700417\n"


def test_run_notebook_writes_the_executed_copy(local: Server, tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# t"),
        nbformat.v4.new_code_cell("a = 20\nprint('a is', a)"),
        nbformat.v4.new_code_cell("a + 1"),
        nbformat.v4.new_code_cell("raise ValueError('stop here')"),
        nbformat.v4.new_code_cell("print('never')"),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    src = tmp_path / "nb.ipynb"
    nbformat.write(nb, src)
    r = cli("run", "--data-dir", str(local.data_dir), str(src))
    assert r.returncode == 1 and "ValueError" in r.stderr
    assert r.stdout == "a is 20\n21\n"
    out = nbformat.read(tmp_path / "nb.executed.ipynb", as_version=4)
    nbformat.validate(out)
    assert out.cells[1].outputs[0]["text"] == "a is 20\n"
    assert out.cells[2].outputs[0]["data"]["text/plain"] == "21" and out.cells[2].execution_count == 2
    assert out.cells[3].outputs[0]["ename"] == "ValueError"
    assert out.cells[4].outputs == []
    assert src.read_text() == nbformat.writes(nb) + "\n" or nbformat.read(src, as_version=4) == nb  # untouched


def test_server_option_takes_the_token_from_the_environment(local: Server) -> None:
    r = cli("exec", "--server", local.base_url, "--kernel", "python", "2+2",
            env={"SALVUS_LOCAL_TOKEN": local.token})
    assert r.returncode == 0 and r.stdout == "4\n", r.stderr
    one_line_error(cli("exec", "--server", local.base_url, "2+2", env={"SALVUS_LOCAL_TOKEN": "wrong"}), "403")
    one_line_error(cli("exec", "--server", f"{local.base_url}/?token={local.token}", "2+2"), "SALVUS_LOCAL_TOKEN")
    one_line_error(cli("exec", "--server", "ftp://x", "2+2"), "--server")


def test_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    one_line_error(cli("run", str(tmp_path / "missing.sage")), "no such file")
    (tmp_path / "notes.txt").write_text("x")
    one_line_error(cli("run", str(tmp_path / "notes.txt")), ".sage, .py or .ipynb")
    (tmp_path / "bad.ipynb").write_text("{not json")
    one_line_error(cli("run", "--data-dir", str(tmp_path), str(tmp_path / "bad.ipynb")), "not a readable notebook")
    one_line_error(cli("exec", "  "), "give some code")
    one_line_error(cli("export", str(tmp_path / "bad.ipynb"), "--to", "html"), "not a readable notebook")
    one_line_error(cli("export", str(tmp_path / "bad.ipynb"), "--to", "docx"), "docx")


def test_export_html_and_pdf(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# Exported $x^2$"),
                                         nbformat.v4.new_code_cell("1+1", execution_count=1, outputs=[
                                             nbformat.v4.new_output("execute_result", execution_count=1,
                                                                    data={"text/plain": "2"})])])
    src = tmp_path / "e.ipynb"
    nbformat.write(nb, src)
    r = cli("export", str(src), "--to", "html")
    assert r.returncode == 0, r.stderr
    assert "Exported" in (tmp_path / "e.html").read_text()
    r = cli("export", str(src), "--to", "pdf", "-o", str(tmp_path / "out.pdf"))
    if r.returncode == 2:
        assert "Chromium" in r.stderr and "LaTeX" in r.stderr
    else:
        assert r.returncode == 0 and "headless Chromium" in r.stdout or "LaTeX" in r.stdout
        assert (tmp_path / "out.pdf").read_bytes().startswith(b"%PDF-")


def test_without_a_running_server_a_private_one_is_started_and_stopped(tmp_path: Path) -> None:
    data = tmp_path / "fresh"
    data.mkdir()
    os.chmod(tmp_path, 0o755)
    r = cli("exec", "--data-dir", str(data), "--kernel", "python", "print(7*6)", env=PYTHON_ONLY)
    assert r.returncode == 0, r.stderr
    assert r.stdout == "42\n"
    info = data / "run" / "server.json"
    if info.exists():  # the private server has stopped: its pid is gone
        pid = json.loads(info.read_text())["pid"]
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
