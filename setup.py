"""Packaging for salvus_local: a local notebook server for SageMath."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py
from setuptools.command.sdist import sdist

HERE = Path(__file__).resolve().parent
# The version is declared once, in salvus_local/__init__.py.
VERSION = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "salvus_local" / "__init__.py").read_text(encoding="utf-8"), re.MULTILINE
).group(1)

# The sync package lives in the top-level sync/ folder; ship it only once it has code,
# so an empty placeholder never becomes an importable, empty salvus_sync.
SYNC_DIR = HERE / "sync"
HAS_SYNC = (SYNC_DIR / "__init__.py").exists()

packages = find_packages(include=["salvus_local", "salvus_local.*"])
package_dir: dict[str, str] = {}
if HAS_SYNC:
    package_dir["salvus_sync"] = "sync"
    packages += ["salvus_sync"] + [
        "salvus_sync." + sub for sub in find_packages(where="sync")
    ]

# --- The web client: built by npm in static/, shipped in salvus_local/_static ----------------------
# A wheel or sdist must carry the built client (else the installed server shows its "not built"
# page), so building either one builds it when it is missing or stale.  "Stale" compares a hash
# of the client's sources with the one build.mjs wrote into manifest.json, never mtimes (an sdist
# or a git checkout does not keep them meaningfully).  An sdist carries the built client and the
# same sources, so installing from it finds the client fresh and needs no Node.
STATIC_SRC = HERE / "static"
STATIC_OUT = HERE / "salvus_local" / "_static"
# Keep in step with SOURCE_INPUTS in static/build.mjs.
CLIENT_INPUTS = ("package.json", "package-lock.json", "build.mjs", "src", "public")


def client_source_hash() -> str | None:
    """sha256 hex of the client's sources (relative path, size, bytes of each file, sorted); None without static/."""
    if not (STATIC_SRC / "package.json").is_file():
        return None
    files: list[Path] = []
    for name in CLIENT_INPUTS:
        path = STATIC_SRC / name
        files += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path] if path.is_file() else []
    digest = hashlib.sha256()
    for rel in sorted(p.relative_to(STATIC_SRC).as_posix() for p in files):
        data = (STATIC_SRC / rel).read_bytes()
        digest.update(f"{rel}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def client_is_fresh() -> bool:
    """True when salvus_local/_static holds a client built from today's sources (or there are no sources)."""
    try:
        built = json.loads((STATIC_OUT / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    wanted = client_source_hash()
    return wanted is None or built.get("source_hash") == wanted


def build_client() -> None:
    """Run `npm ci` (when node_modules is missing or older than the lock) and `npm run build` in static/."""
    if client_is_fresh():
        return
    if not (STATIC_SRC / "package.json").is_file():
        raise SystemExit("salvus-local: the web client is not built and static/ is missing: build from a git "
                         "checkout or from the sdist, which carries the built client")
    npm, node = shutil.which("npm"), shutil.which("node")
    if not npm or not node:
        raise SystemExit(
            "salvus-local: building the web client (static/) needs Node.js 20+ and npm, and "
            f"{'node' if not node else 'npm'} is not on PATH. Install them (https://nodejs.org/, or "
            "`apt-get install nodejs npm`) and build again, or install from the sdist, which carries the built client."
        )
    lock = STATIC_SRC / "package-lock.json"
    installed = STATIC_SRC / "node_modules" / ".package-lock.json"
    steps = [[npm, "run", "build"]]
    if not installed.is_file() or (lock.is_file() and lock.stat().st_mtime > installed.stat().st_mtime):
        steps.insert(0, [npm, "ci", "--no-audit", "--no-fund"] if lock.is_file() else [npm, "install", "--no-audit", "--no-fund"])
    for step in steps:
        command = "npm " + " ".join(step[1:])
        print(f"salvus-local: building the web client: {command} (in static/)", flush=True)
        proc = subprocess.run(step, cwd=STATIC_SRC, check=False)
        if proc.returncode:
            raise SystemExit(f"salvus-local: `{command}` in static/ failed (exit {proc.returncode}); see the output above")
    if not client_is_fresh():
        raise SystemExit("salvus-local: `npm run build` finished but salvus_local/_static/manifest.json does not match "
                         "the sources (is static/build.mjs writing source_hash?)")


class BuildPyWithClient(build_py):
    """build_py that first builds the web client, so every wheel carries it."""

    def run(self) -> None:
        # Editable installs (pip install -e) serve the source tree's _static: `make static` builds it.
        if not getattr(self, "editable_mode", False):
            build_client()
            self.__dict__.pop("data_files", None)  # recompute package data now that _static exists
        super().run()


class SDistWithClient(sdist):
    """sdist that first builds the web client, so installing from the sdist needs no Node."""

    def run(self) -> None:
        build_client()
        super().run()


SAGE = [
    "passagemath-repl",
    "passagemath-symbolics",
    "passagemath-plot",
    "passagemath-maxima",
    "passagemath-pari",
    "passagemath-flint",
]

setup(
    name="salvus-local",
    version=VERSION,
    description="A local notebook server for SageMath, for one laptop or a whole offline classroom.",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.10",
    packages=packages,
    package_dir=package_dir,
    # Built front-end assets (npm run build in static/) land in salvus_local/_static.
    package_data={"salvus_local": ["_static/**/*", "py.typed", "server/pages/templates/*.html", "ui/icons/*",
                                   "server/openapi/*.yaml"]},
    include_package_data=True,
    install_requires=[
        "flask",
        "flask-sock",
        "gunicorn",
        "click",
        "ipython",
        "ipywidgets",
        "comm",
        "nbformat",
        "nbconvert",  # export to HTML (and PDF through Chromium or LaTeX)
        "sqlite-utils",
        "GitPython",
        "watchdog",
        "psutil",
        "argon2-cffi",
        "segno",
        "zeroconf",
        "nbdime",
        "jsonschema",  # request validation against the OpenAPI document
        "PyYAML",
        "pycrdt",  # realtime collaboration: Yjs documents on the server (salvus_local/collab)
        "requests",  # sync login/logout talk to the hub's REST API
    ],
    extras_require={
        "sage": SAGE,
        "desktop": ["pywebview[qt]"],
        # Courses: the student version of nbgrader notebooks (solutions and hidden tests removed) uses nbgrader's
        # preprocessors; it pulls in jupyterlab and more, so it is optional (the API says what to install).
        "courses": ["nbgrader"],
        "dev": [
            "pytest",
            "pytest-timeout",
            "websocket-client",
            "playwright",
            "hypothesis",
            "requests",
            "psutil",
            "build",
            "schemathesis",
            "nbgrader",
        ],
    },
    cmdclass={"build_py": BuildPyWithClient, "sdist": SDistWithClient},
    entry_points={
        "console_scripts": [
            "salvus-local = salvus_local.cli:main",
            "sage-salvus = salvus_local.cli:main",
        ],
    },
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Flask",
        "Framework :: Jupyter",
        "Topic :: Scientific/Engineering :: Mathematics",
    ],
)
