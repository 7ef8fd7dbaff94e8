"""Autograding against a student's hostile code: what it writes to the shared /tmp is private to its grading uid."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Server

from .conftest import homework
from .test_notebooks import _by_id, _cycle


@pytest.mark.skipif(os.geteuid() != 0, reason="sessions run under uids of their own only on a root server")
def test_files_left_in_tmp_by_graded_code_are_not_readable_by_others(multi: Server) -> None:
    leak = Path("/tmp") / f"graded-leak-{uuid.uuid4().hex}"

    def steal(content: dict[str, Any]) -> None:
        # The solution cell copies every later cell's source (the hidden tests) to the shared /tmp, default mode.
        _by_id(content)["square"]["source"] = (
            "def square(x):\n    return x * x\n"
            "def _steal(info):\n"
            f"    open({str(leak)!r}, 'a').write(info.raw_cell)\n"
            "get_ipython().events.register('pre_run_cell', _steal)\n")

    try:
        _cycle(multi, homework(), steal)
        if leak.exists():  # /tmp is shared as root: the file may be there, but only its grading uid may read it
            mode = leak.stat().st_mode & 0o777
            assert mode & 0o077 == 0, oct(mode)
    finally:
        leak.unlink(missing_ok=True)
