"""Export a notebook to HTML (nbconvert's ``lab`` template) or PDF (no Flask: the CLI uses it too).

PDF goes through headless Chromium's print-to-PDF when a Chromium is installed (the HTML
export, printed), else through nbconvert's LaTeX exporter when ``xelatex`` is installed;
neither → :class:`ExportError` saying what to install.  Untrusted notebooks are exported with
nbconvert's ``sanitize_html`` (scripts and event handlers dropped), so an exported page or a
printed one runs no code from the notebook's outputs.  Math is typeset by MathJax, which the
exported page loads from its CDN (as ``jupyter nbconvert --to html`` does): offline, math
shows as its TeX source.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import nbformat

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
PRINT_TIMEOUT = 120  # seconds headless Chromium may take to print one notebook


class ExportError(Exception):
    """The export cannot be made (a bad notebook, or no PDF engine installed)."""


def read(source: str | bytes | dict[str, Any] | os.PathLike[str]) -> Any:
    """Return a NotebookNode from a path, JSON text or a dict; raise ExportError when it is not a notebook."""
    try:
        if isinstance(source, dict):
            return nbformat.from_dict(source)
        if isinstance(source, (str, bytes)) and str(source[:1]) in ("{", "b'{'"):
            return nbformat.reads(source, as_version=4)
        return nbformat.read(os.fspath(source), as_version=4)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ExportError(f"not a readable notebook: {exc}") from None


def trusted(nb: Any) -> bool:
    """Tell whether the notebook is marked trusted (its HTML and scripts may run)."""
    return bool(((nb.get("metadata") or {}).get("salvus") or {}).get("trusted"))


def to_html(nb: Any, title: str = "") -> str:
    """Return the notebook as one standalone HTML page."""
    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab", sanitize_html=not trusted(nb))
    body, _resources = exporter.from_notebook_node(nb, resources={"metadata": {"name": title or "Notebook"}})
    return body


def chromium() -> str | None:
    """Return the path of an installed Chromium/Chrome, or None."""
    for name in (os.environ.get("SALVUS_LOCAL_CHROMIUM", ""), *CHROMIUM_NAMES):
        path = shutil.which(name) if name else None
        if path:
            return path
    return None


def pdf_engine() -> str | None:
    """Return which PDF engine is available: "chromium", "latex" or None."""
    if chromium():
        return "chromium"
    if shutil.which("xelatex"):
        return "latex"
    return None


def to_pdf(nb: Any, title: str = "") -> tuple[bytes, str]:
    """Return (PDF bytes, engine) with engine "chromium" or "latex"; ExportError when neither is installed."""
    engine = pdf_engine()
    if engine == "chromium":
        return _print_with_chromium(to_html(nb, title)), engine
    if engine == "latex":
        from nbconvert import PDFExporter

        try:
            data, _ = PDFExporter().from_notebook_node(nb, resources={"metadata": {"name": title or "Notebook"}})
        except Exception as exc:  # LaTeX errors come in many types; say what failed
            raise ExportError(f"LaTeX could not build the PDF: {str(exc).splitlines()[0][:300]}") from None
        return data, engine
    raise ExportError("PDF export needs Chromium (apt-get install chromium) or LaTeX (xelatex, e.g. "
                      "apt-get install texlive-xetex); neither is installed. Export to HTML instead.")


def _print_with_chromium(html: str) -> bytes:
    """Print an HTML page to PDF with headless Chromium in a private profile."""
    with tempfile.TemporaryDirectory(prefix="salvus-pdf-") as tmp:
        page, out = Path(tmp) / "notebook.html", Path(tmp) / "notebook.pdf"
        page.write_text(html, encoding="utf-8")
        argv = [chromium() or "chromium", "--headless", "--disable-gpu", "--no-first-run", "--disable-sync",
                "--disable-background-networking", "--disable-component-update", f"--user-data-dir={tmp}/profile",
                "--no-pdf-header-footer", "--virtual-time-budget=5000", f"--print-to-pdf={out}", page.as_uri()]
        if os.geteuid() == 0:
            argv.insert(1, "--no-sandbox")  # Chromium refuses to start as root with its sandbox
        try:
            proc = subprocess.run(argv, capture_output=True, timeout=PRINT_TIMEOUT, cwd=tmp)
        except subprocess.TimeoutExpired:
            raise ExportError(f"Chromium took more than {PRINT_TIMEOUT} s to print the notebook") from None
        if not out.is_file() or out.stat().st_size == 0:
            err = proc.stderr.decode(errors="replace").strip().splitlines()
            raise ExportError(f"Chromium could not print the notebook: {err[-1] if err else proc.returncode}")
        return out.read_bytes()
