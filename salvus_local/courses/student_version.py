"""The student version of an assignment: nbgrader's preprocessors, used as a library.

Solutions (``### BEGIN SOLUTION`` … ``### END SOLUTION``, or whole solution cells) become a stub,
hidden tests (``### BEGIN HIDDEN TESTS`` …) go, grade and locked cells are locked, outputs are
cleared and each graded cell gets nbgrader's checksum.  nbgrader has no stub for Sage: we give it
Python's, which is valid Sage (``raise NotImplementedError()``).  nbgrader is an optional extra
(``pip install 'salvus-local[courses]'``): it is imported here only, lazily.
"""

from __future__ import annotations

import hashlib
from typing import Any

from salvus_local.store.errors import BadRequest, StoreError

STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
TEXT_STUB = "YOUR ANSWER HERE"
CODE_STUBS = {"python": STUB, "sage": STUB, "sagemath": STUB, "R": "# YOUR CODE HERE\nstop(\"No Answer Given!\")",
              "julia": "# YOUR CODE HERE\nerror(\"No Answer Given!\")"}


class NeedsNbgrader(StoreError):
    """nbgrader is not installed."""

    status = 501
    reason = "Not Implemented"


def language(nb: Any) -> str:
    """The notebook's language for stubs and kernels: ``sage`` or ``python`` (by kernelspec, then language_info)."""
    spec = nb.get("metadata", {}).get("kernelspec") or {}
    lang = str(spec.get("language") or nb.get("metadata", {}).get("language_info", {}).get("name") or "python")
    if "sage" in lang.lower() or "sage" in str(spec.get("name", "")).lower():
        return "sage"
    return lang


def _preprocessors() -> list[Any]:
    try:
        from nbgrader.preprocessors import ClearHiddenTests, ClearOutput, ClearSolutions, ComputeChecksums, LockCells
    except ImportError:
        raise NeedsNbgrader("Making the student version needs nbgrader: pip install 'salvus-local[courses]'") from None
    return [ClearSolutions(code_stub=CODE_STUBS, text_stub=TEXT_STUB), ClearHiddenTests(), LockCells(),
            ClearOutput(), ComputeChecksums()]


def student_notebook(data: bytes, path: str) -> bytes:
    """Source .ipynb bytes → student .ipynb bytes; 400 naming the notebook when it cannot be read."""
    import nbformat

    try:
        nb = nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception as exc:
        raise BadRequest(f"{path} is not a notebook nbformat can read: {exc}") from None
    lang = language(nb)
    nb.metadata.setdefault("kernelspec", {}).setdefault("language", lang)
    resources: dict[str, Any] = {}
    for pre in _preprocessors():
        try:
            nb, resources = pre.preprocess(nb, resources)
        except Exception as exc:  # nbgrader's own message says which cell is wrong
            raise BadRequest(f"{path}: {exc}") from None
    return (nbformat.writes(nb) + "\n").encode("utf-8")


def student_files(source: dict[str, bytes]) -> dict[str, bytes]:
    """The student version of an assignment folder: notebooks converted, other files as they are."""
    return {rel: student_notebook(data, rel) if rel.endswith(".ipynb") else data for rel, data in source.items()}


def sha256(data: bytes) -> str:
    """Hex digest of a file's bytes (what distribution records to spot a student's change)."""
    return hashlib.sha256(data).hexdigest()
