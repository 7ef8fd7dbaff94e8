"""The published artefacts work on their own: `python -m build` on a fresh copy of HEAD gives an
sdist and a wheel that carry the built web client; the wheel, installed into a fresh venv with no
source tree around, serves the full client to Chromium; the sdist installs with no Node.

Marked ``wheel`` (``pytest -m wheel`` selects these, ``-m "not wheel"`` skips them).  They build
from the COMMITTED tree (``git archive HEAD``), as a fresh clone would.  Runtime on the project's
2-core machines: about 1–2 minutes (npm ci from the npm cache, pip from the local wheel index).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import REPO, reachable_by_sessions
from tests.ui.conftest import CHROMIUM_ARGS, KERNEL_TIMEOUT_MS, chromium_path

pytestmark = pytest.mark.wheel

VERSION = re.search(r'^__version__ = "([^"]+)"', (REPO / "salvus_local" / "__init__.py").read_text(), re.M).group(1)
BUILD_TIMEOUT = 900


def git_archive(dest: Path) -> Path:
    """Unpack HEAD's files (what a fresh clone has: no _static, no node_modules) into dest."""
    if not (REPO / ".git").exists() or not shutil.which("git"):
        pytest.skip("needs a git checkout and git")
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", "HEAD"], capture_output=True,
                             check=True, timeout=120).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True, timeout=120)
    return dest


def run_build(src: Path, outdir: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m build` (isolated, as a packager runs it) of src into outdir."""
    return subprocess.run([sys.executable, "-m", "build", "--outdir", str(outdir), *args, str(src)],
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False,
                          env={**os.environ, **(env or {})})


def bin_without_node(where: Path, fake_node: bool) -> dict[str, str]:
    """An environment whose PATH has no real node/npm: either none at all, or shims that fail loudly."""
    where.mkdir(parents=True, exist_ok=True)
    for tool in ("git", "tar"):  # what a build may legitimately call
        if shutil.which(tool):
            (where / tool).symlink_to(shutil.which(tool))
    if fake_node:
        for tool in ("node", "npm"):
            (where / tool).write_text(f"#!/bin/sh\necho '{tool} must not be needed here' >&2\nexit 97\n")
            (where / tool).chmod(0o755)
    return {"PATH": str(where)}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """sdist + wheel built by `python -m build` from a fresh copy of HEAD (this builds the client with npm)."""
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.skip("building the client needs node and npm")
    src = git_archive(tmp_path_factory.mktemp("clean") / "salvus-local")
    assert not (src / "salvus_local" / "_static").exists()
    out = tmp_path_factory.mktemp("dist")
    proc = run_build(src, out)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def test_build_gives_sdist_and_wheel_with_the_client(dist: Path) -> None:
    """Both artefacts carry the built client, its manifest, the page templates and the icons."""
    (wheel,) = dist.glob("*.whl")
    (sdist,) = dist.glob("*.tar.gz")
    assert wheel.name == f"salvus_local-{VERSION}-py3-none-any.whl"
    assert sdist.name == f"salvus_local-{VERSION}.tar.gz"
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in ("salvus_local/_static/manifest.json", "salvus_local/_static/favicon.svg",
                   "salvus_local/server/pages/templates/page.html", "salvus_local/ui/icons/salvus-local.svg"):
        assert needed in names, needed
    assert any(re.match(r"salvus_local/_static/starter-\w+\.js$", n) for n in names)
    top = f"salvus_local-{VERSION}/"
    members = set(tarfile.open(sdist).getnames())
    assert top + "salvus_local/_static/manifest.json" in members
    assert top + "static/src/starter.js" in members
    assert not any("node_modules" in m for m in members)


def test_sdist_installs_without_node(dist: Path, tmp_path: Path) -> None:
    """A wheel builds from the sdist with node/npm shims that fail: the sdist's client is used as is."""
    (sdist,) = dist.glob("*.tar.gz")
    env = bin_without_node(tmp_path / "bin", fake_node=True)
    proc = run_build(sdist, tmp_path / "out", "--wheel", env=env)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert "must not be needed" not in proc.stdout + proc.stderr
    (wheel,) = (tmp_path / "out").glob("*.whl")
    assert "salvus_local/_static/manifest.json" in zipfile.ZipFile(wheel).namelist()


def test_build_without_node_names_what_is_missing(tmp_path: Path) -> None:
    """A fresh clone without Node fails to build a wheel with a message naming Node.js and npm."""
    src = git_archive(tmp_path / "clean")
    env = bin_without_node(tmp_path / "bin", fake_node=False)
    proc = run_build(src, tmp_path / "out", "--wheel", env=env)
    assert proc.returncode != 0
    output = proc.stdout + proc.stderr
    assert "needs Node.js 20+ and npm" in output and "node is not on PATH" in output, output[-3000:]
    assert not list((tmp_path / "out").glob("*.whl"))


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (no source tree around) with the wheel and its dependencies, without the sage extra."""
    home = tmp_path_factory.mktemp("installed")
    reachable_by_sessions(home)  # a root server runs sessions as uid 65534: they must enter the venv
    venv = home / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    (wheel,) = dist.glob("*.whl")
    proc = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=home,
                          capture_output=True, text=True, timeout=BUILD_TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return venv


def clean_env() -> dict[str, str]:
    """The environment minus anything that could point Python back at the source tree."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "SALVUS_LOCAL_"))}


def test_version_agrees(installed: Path, tmp_path: Path) -> None:
    """`salvus-local --version` of the installed wheel is the source's version, read from the installed package."""
    proc = subprocess.run([str(installed / "bin" / "salvus-local"), "--version"], cwd=tmp_path, env=clean_env(),
                          capture_output=True, text=True, timeout=120, check=True)
    assert proc.stdout.strip() == f"salvus-local, version {VERSION}"
    where = subprocess.run([str(installed / "bin" / "python"), "-c", "import salvus_local; print(salvus_local.__file__)"],
                           cwd=tmp_path, env=clean_env(), capture_output=True, text=True, check=True).stdout
    assert str(installed) in where and str(REPO) not in where


@pytest.fixture
def installed_server(installed: Path, tmp_path: Path) -> Iterator[str]:
    """`salvus-local --port 0 --no-browser` from the installed venv, cwd outside the source; yields its URL."""
    data = tmp_path / "data"
    reachable_by_sessions(data)
    argv = [str(installed / "bin" / "salvus-local"), "--port", "0", "--no-browser", "--data-dir", str(data),
            "--kernels", "python", "--kernel", "python"]
    log = open(tmp_path / "server.log", "wb")
    proc = subprocess.Popen(argv, cwd=tmp_path, env=clean_env(), stdout=subprocess.PIPE, stderr=log,
                            start_new_session=True)
    try:
        assert proc.stdout is not None
        url = ""
        for raw in proc.stdout:  # the URL is the first line it prints once it listens
            line = raw.decode(errors="replace").strip()
            if line.startswith("http://127.0.0.1:"):
                url = line
                break
        assert url, (tmp_path / "server.log").read_text(errors="replace")[-3000:]
        threading.Thread(target=proc.stdout.read, daemon=True).start()  # keep its pipe from filling up
        yield url
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def test_installed_wheel_serves_the_client(installed_server: str) -> None:
    """Chromium loads the starter page from the installed wheel: the client runs code and shows the version."""
    sync_api = pytest.importorskip("playwright.sync_api")
    if not chromium_path():
        pytest.skip("chromium is not installed (apt-get install chromium)")
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            response = page.goto(installed_server)
            assert response is not None and response.status == 200, "the server answered the not-built page"
            sync_api.expect(page.locator(".app-footer")).to_contain_text(f"Salvus Local {VERSION}")
            page.wait_for_selector(".kernel-status[data-status=idle]", timeout=KERNEL_TIMEOUT_MS)
            page.locator(".scratch-input .cm-content").click()
            page.keyboard.type("6*7")
            page.keyboard.press("Shift+Enter")
            page.locator(".scratch-entry .output-area").filter(has_text="42").wait_for(timeout=KERNEL_TIMEOUT_MS)
            assert page.title() == "Home · Salvus Local"
            assert not errors
        finally:
            browser.close()
