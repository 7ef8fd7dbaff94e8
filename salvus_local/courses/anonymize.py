"""Peer review's pure parts: who reviews whom (deterministic, balanced, nobody themself) and the author-free copy.

No I/O here: peer.py reads the collected submission, calls :func:`strip_tree`, and writes the result
into the reviewer's project.
"""

from __future__ import annotations

import json
import random
import re
from typing import Any

PLACEHOLDER = "[author]"
NB_META_KEPT = ("kernelspec", "language_info")  # everything else (authors, collaboration, widgets) may name someone
CELL_META_KEPT = ("nbgrader",)  # the reviewer needs the question ids; tags, collab cursors, etc. are dropped


def pairs(authors: list[str], per_submission: int, seed: str) -> dict[str, list[str]]:
    """{author: [reviewer, …]}: each author gets ``per_submission`` reviewers, each reviewer that many submissions.

    The authors are shuffled by ``seed`` into a circle and each one's work goes to the next N in it, so
    nobody reviews themself, nobody gets the same submission twice and every load is exactly N.
    Needs ``len(authors) > per_submission`` (ValueError otherwise).
    """
    if per_submission < 1 or len(authors) <= per_submission:
        raise ValueError(f"{per_submission} reviews per submission need at least {per_submission + 1} submissions")
    circle = sorted(authors)  # the order the rows came in must not matter: only the seed does
    random.Random(seed).shuffle(circle)
    n = len(circle)
    return {a: [circle[(i + k) % n] for k in range(1, per_submission + 1)] for i, a in enumerate(circle)}


def _scrubber(names: list[str]) -> Any:
    """A function text → text with every name (whole words, any case) replaced by the placeholder."""
    names = sorted({n for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True)
    if not names:
        return lambda text: text
    pattern = re.compile(r"(?<![\w])(?:" + "|".join(re.escape(n.strip()) for n in names) + r")(?![\w])", re.I)
    return lambda text: pattern.sub(PLACEHOLDER, text)


def _scrub_values(value: Any, scrub: Any) -> Any:
    """Every string value of a JSON structure scrubbed (keys are left alone: they are the format's names)."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list):
        return [_scrub_values(v, scrub) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_values(v, scrub) for k, v in value.items()}
    return value


def strip_notebook(data: bytes, scrub: Any) -> bytes | None:
    """A notebook without identifying metadata and with the author's names scrubbed; None when not a notebook."""
    try:
        nb = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        return None
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    nb["metadata"] = {k: meta[k] for k in NB_META_KEPT if k in meta}
    for cell in nb["cells"]:
        if isinstance(cell, dict):
            cm = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
            cell["metadata"] = {k: cm[k] for k in CELL_META_KEPT if k in cm}
    nb["cells"] = _scrub_values(nb["cells"], scrub)
    return (json.dumps(nb, indent=1, ensure_ascii=False) + "\n").encode("utf-8")


def strip_tree(tree: dict[str, bytes], names: list[str]) -> dict[str, bytes]:
    """The files of a submission for a reviewer: names scrubbed from paths, notebooks and text files.

    ``names``: what identifies the author (username, display name, their project's id).  Binary files
    are copied as they are; a path that would collide after renaming gets a number.
    """
    scrub = _scrubber(names)
    out: dict[str, bytes] = {}
    for rel, data in sorted(tree.items()):
        parts = [scrub(p).replace(PLACEHOLDER, "author") for p in rel.split("/")]
        target = "/".join(parts)
        n = 2
        while target in out:
            stem, dot, ext = parts[-1].partition(".")
            target = "/".join([*parts[:-1], f"{stem}-{n}{dot}{ext}"])
            n += 1
        if rel.endswith(".ipynb"):
            stripped = strip_notebook(data, scrub)
            if stripped is not None:
                out[target] = stripped
                continue
        try:
            out[target] = scrub(data.decode("utf-8")).encode("utf-8")
        except UnicodeDecodeError:
            out[target] = data
    return out
