"""Grading without trusting the submission's structure: graded cells are matched by grade_id to the SOURCE version.

nbgrader's own autograder fails on submissions where a student deleted or duplicated a grade cell or
changed a cell's type.  Here the notebook that runs is the submission's cells in the student's order,
but every test and locked cell comes from the source version (hidden tests included), a deleted
graded cell is put back (a test after the cell that preceded it in the source, an answer as an empty
cell), a duplicated grade_id is graded once (the first copy; later copies run as ordinary cells), an
answer whose cell type changed is graded as the source's type, and each such repair is a warning.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

KIND_AUTO, KIND_MANUAL, KIND_TASK = "autograded", "manual", "task"


@dataclass
class CellRun:
    """What running one code cell gave: nbformat outputs, whether it raised, its execution count."""

    outputs: list[dict[str, Any]] = field(default_factory=list)
    error: bool = False
    execution_count: int | None = None
    tampered: list[str] = field(default_factory=list)  # grading machinery found changed before this (test) cell


def read_nb(data: bytes | None) -> Any:
    """Notebook bytes → an nbformat v4 node, or None when absent or unreadable."""
    import nbformat

    if data is None:
        return None
    try:
        return nbformat.reads(data.decode("utf-8"), as_version=4)
    except Exception:
        return None


def write_nb(nb: Any) -> bytes:
    """An nbformat node → .ipynb bytes."""
    import nbformat

    return (nbformat.writes(nb) + "\n").encode("utf-8")


def meta(cell: Any) -> dict[str, Any]:
    """The cell's nbgrader metadata ({} when none)."""
    value = (cell.get("metadata") or {}).get("nbgrader")
    return value if isinstance(value, dict) else {}


def kind_of(cell: Any) -> str | None:
    """autograded (a test), manual (a graded answer), task, or None for a cell that is not graded."""
    m = meta(cell)
    if m.get("task"):
        return KIND_TASK
    if m.get("grade"):
        return KIND_MANUAL if m.get("solution") or cell.get("cell_type") != "code" else KIND_AUTO
    return None


def _from_source(cell: Any) -> bool:
    """Cells whose content the teacher owns: tests and locked cells (not answers)."""
    m = meta(cell)
    return bool(m.get("grade_id")) and not m.get("solution") and (m.get("locked") or m.get("grade")
                                                                   or m.get("task"))


def max_score(files: dict[str, bytes]) -> float:
    """Total points of the graded cells of every notebook in an assignment folder."""
    total = 0.0
    for rel, data in files.items():
        nb = read_nb(data) if rel.endswith(".ipynb") else None
        for cell in (nb.cells if nb else []):
            if kind_of(cell):
                total += float(meta(cell).get("points") or 0)
    return total


def _retype(cell: Any, cell_type: str) -> Any:
    """The cell as another type (code cells carry outputs and a count; others do not)."""
    import nbformat

    make = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
            "raw": nbformat.v4.new_raw_cell}[cell_type]
    return make(cell.source, metadata=copy.deepcopy(cell.metadata))


def merge(source: Any, submission: Any | None) -> tuple[Any, list[str]]:
    """Build the notebook to grade from the source version and a submission (None: missing); (notebook, warnings)."""
    src = {meta(c)["grade_id"]: c for c in source.cells if meta(c).get("grade_id")}
    out = copy.deepcopy(source)
    out.cells = []
    warnings: list[str] = []
    seen: set[str] = set()
    for cell in (submission.cells if submission is not None else []):
        gid = meta(cell).get("grade_id")
        cell = copy.deepcopy(cell)
        if gid and gid in src and gid not in seen:
            seen.add(gid)
            original = src[gid]
            if _from_source(original):
                if cell.cell_type != original.cell_type:
                    warnings.append(f"Cell {gid} was changed from {original.cell_type} to {cell.cell_type}; "
                                    "the source version was run")
                cell = copy.deepcopy(original)
            else:
                if cell.cell_type != original.cell_type:
                    warnings.append(f"Answer {gid} was changed from {original.cell_type} to {cell.cell_type}; "
                                    f"it was graded as {original.cell_type}")
                    cell = _retype(cell, original.cell_type)
                cell.metadata["nbgrader"] = copy.deepcopy(original.metadata["nbgrader"])
        elif gid:
            why = "appears more than once; the first copy was graded" if gid in seen else "is not in the source"
            warnings.append(f"Grade cell {gid} {why}; this copy ran as an ordinary cell")
            cell.metadata.pop("nbgrader", None)
        else:
            cell.metadata.pop("nbgrader", None)  # nbgrader metadata without an id grades nothing
        out.cells.append(cell)
    _restore_missing(source, out, seen, warnings)
    return out, warnings


def _restore_missing(source: Any, out: Any, seen: set[str], warnings: list[str]) -> None:
    """Put back graded cells the submission lost: after the cell that preceded them in the source."""
    import nbformat

    previous: str | None = None
    for cell in source.cells:
        gid = meta(cell).get("grade_id")
        if not gid:
            continue
        if gid not in seen:
            if _from_source(cell):
                restored = copy.deepcopy(cell)
                warnings.append(f"Cell {gid} was deleted; the source version was put back and run")
            else:
                restored = _retype(nbformat.v4.new_markdown_cell(""), cell.cell_type)
                restored.metadata["nbgrader"] = copy.deepcopy(cell.metadata["nbgrader"])
                warnings.append(f"Answer {gid} was deleted; it was graded as empty")
            ids = [meta(c).get("grade_id") for c in out.cells]
            at = ids.index(previous) + 1 if previous in ids else len(out.cells) if previous else 0
            out.cells.insert(at, restored)
            seen.add(gid)
        previous = gid


def stubs(student_nb: Any) -> dict[str, str]:
    """{grade_id: source} of the graded answers as handed out (to spot answers left unchanged)."""
    return {meta(c)["grade_id"]: c.source for c in student_nb.cells if kind_of(c) == KIND_MANUAL}


def score(nb: Any, notebook: str, unchanged: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Grade rows of a run notebook: a test earns its points when it ran without error.

    A graded answer still exactly as handed out (``unchanged``: grade_id → that source) gets 0 points
    at once, as nbgrader does, so nobody has to grade an empty answer by hand.
    """
    rows = []
    for position, cell in enumerate(nb.cells):
        kind = kind_of(cell)
        if kind is None:
            continue
        m = meta(cell)
        points = float(m.get("points") or 0)
        auto = None
        if kind == KIND_AUTO:
            failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
            auto = 0.0 if failed or cell.get("execution_count") is None else points
        elif kind == KIND_MANUAL and (unchanged or {}).get(m["grade_id"], None) is not None:
            auto = 0.0 if cell.source.strip() == unchanged[m["grade_id"]].strip() else None
        rows.append({"notebook": notebook, "grade_id": m["grade_id"], "kind": kind, "cell_type": cell.cell_type,
                     "position": position, "auto_points": auto, "max_points": points})
    return rows


def totals(rows: list[dict[str, Any]]) -> tuple[float, float, bool]:
    """(score, max score, needs manual grading) of grade rows; manual points override automatic ones."""
    got = sum((r["manual_points"] if r.get("manual_points") is not None else r["auto_points"] or 0.0) for r in rows)
    needs = any(r["kind"] != KIND_AUTO and r.get("manual_points") is None and r.get("auto_points") is None
                for r in rows)
    return got, sum(r["max_points"] for r in rows), needs
