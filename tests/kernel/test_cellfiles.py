"""Files a cell writes are published under its output, in the real forked kernel."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from tests.conftest import reachable_by_sessions

from .conftest import of_type

PNG_1x1 = ("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    (folder / "old.txt").write_text("untouched")
    (folder / "sub").mkdir()
    os.chmod(folder, 0o777)  # sessions run as another uid when the tests run as root
    os.chmod(folder / "sub", 0o777)
    reachable_by_sessions(folder)
    return folder


@pytest.fixture
def py(python_forker, workdir: Path):
    kc = python_forker.start(cwd=str(workdir))
    yield kc
    kc.kill()


def files_of(iopub: list[dict]) -> list[dict]:
    return [m["content"] for m in of_type(iopub, "display_data")]


def test_new_and_changed_files_are_listed_images_inline(py, workdir: Path) -> None:
    code = (f"import base64\nopen('plot.png','wb').write(base64.b64decode({PNG_1x1!r}))\n"
            "open('sub/data.csv','w').write('a,b\\n1,2\\n')\n"
            "open('pic.svg','w').write('<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"4\" height=\"4\"/>')\n"
            "open('.hidden','w').write('x')\n1+1")
    reply, iopub = py.execute(code)
    assert reply["content"]["status"] == "ok"
    shown = files_of(iopub)
    images = [d for d in shown if "salvus" in d["metadata"]]
    assert [d["metadata"]["salvus"]["file"] for d in images] == ["pic.svg", "plot.png"]
    assert base64.b64decode(images[1]["data"]["image/png"]) == base64.b64decode(PNG_1x1)
    assert images[0]["data"]["image/svg+xml"].startswith("<svg")
    listing = shown[-1]["data"]
    paths = [f["path"] for f in listing["application/vnd.salvus.files+json"]["files"]]
    assert paths == ["pic.svg", "plot.png", "sub/data.csv"]  # not old.txt, not .hidden
    assert "[sub/data.csv](sub/data.csv)" in listing["text/markdown"]
    # The result comes first, the files after it.
    order = [m["header"]["msg_type"] for m in iopub if m["header"]["msg_type"] in ("execute_result", "display_data")]
    assert order[0] == "execute_result"
    # A cell that writes nothing shows nothing more; rewriting a file lists it again.
    assert files_of(py.execute("2+2")[1]) == []
    shown = files_of(py.execute("open('sub/data.csv','a').write('3,4\\n')")[1])
    assert [f["path"] for f in shown[-1]["data"]["application/vnd.salvus.files+json"]["files"]] == ["sub/data.csv"]


def test_scan_is_bounded(py, workdir: Path) -> None:
    code = "import os\nos.makedirs('many', exist_ok=True)\nfor i in range(3000): open(f'many/f{i:04d}.txt','w').close()"
    reply, iopub = py.execute(code)
    assert reply["content"]["status"] == "ok"
    listing = files_of(iopub)[-1]["data"]["application/vnd.salvus.files+json"]
    assert len(listing["files"]) == 50 and listing["truncated"] is True and listing["more"] > 0
