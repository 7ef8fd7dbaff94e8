"""Packaging for salvus_local: a local notebook server for SageMath."""

from __future__ import annotations

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
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
    package_data={"salvus_local": ["_static/**/*", "py.typed"]},
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
        "sqlite-utils",
        "GitPython",
        "watchdog",
        "psutil",
    ],
    extras_require={
        "sage": SAGE,
        "desktop": ["pywebview[qt]"],
        "dev": [
            "pytest",
            "pytest-timeout",
            "websocket-client",
            "playwright",
            "hypothesis",
            "requests",
            "psutil",
        ],
    },
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
