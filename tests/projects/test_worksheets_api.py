"""Worksheet import over HTTP (POST /p/<id>/api/worksheets/import) against a real salvus-local."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import nbformat

from tests.worksheets.samples import write_samples as _write_samples


def write_samples(folder: Path) -> dict:
    """The samples, owned like files a session made (the server writes with the project owner's rights)."""
    paths = _write_samples(folder)
    owner = next(p for p in [folder, *folder.parents] if p.exists() and (p / ".git").exists()).stat()
    for base, dirs, files in os.walk(folder):
        for name in [base, *(os.path.join(base, n) for n in dirs + files)]:
            os.lchown(name, owner.st_uid, owner.st_gid)
    return paths


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_import_sws_writes_notebook_beside_it(client, root: Path) -> None:
    paths = write_samples(root / "old")
    before = _digest(paths["sws"])
    r = client.post("/api/worksheets/import", json={"path": "old/Intégrales.sws"})
    assert r.status_code == 201, r.text
    assert r.json()["path"] == "old/Intégrales.ipynb" and r.json()["type"] == "notebook"
    nb = nbformat.read(root / "old" / "Intégrales.ipynb", as_version=4)
    nbformat.validate(nb)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["markdown", "code", "markdown", "code", "code", "code", "markdown"]
    assert "attachment:logo.png" in nb.cells[0].source and "image/png" in nb.cells[0].attachments["logo.png"]
    assert nb.cells[1].outputs[0].text == "4\n"
    assert nb.cells[2].source == "<p>An <b>HTML</b> cell: ∫ x dx</p>"  # %hide + %html → markdown
    assert "image/png" in nb.cells[3].outputs[0].data  # cell://sage0.png from cells/3/
    assert nb.cells[4].source.startswith("%gp\n")
    assert nb.cells[5].outputs[0].text == "Grüße, 世界\n"
    assert nb.cells[5].outputs[1].data["text/html"] == "<i>after</i>"
    assert nb.metadata.kernelspec.name == "sagemath"
    assert _digest(paths["sws"]) == before  # the original is untouched
    # A second import never overwrites the first notebook.
    again = client.post("/api/worksheets/import", json={"path": "old/Intégrales.sws"})
    assert again.status_code == 201 and again.json()["name"] == "Intégrales (imported).ipynb"


def test_import_sagews(client, root: Path) -> None:
    write_samples(root)
    r = client.post("/api/worksheets/import", json={"path": "work sheet.sagews"})
    assert r.status_code == 201, r.text
    nb = nbformat.read(root / "work sheet.ipynb", as_version=4)
    assert [c.cell_type for c in nb.cells] == ["code", "markdown", "code", "code", "code"]
    assert nb.cells[0].outputs[0].text == "5\n"
    assert nb.cells[1].source.startswith("# Notes — ünïcode")
    html, err = nb.cells[2].outputs
    assert html.data["text/html"] == "<b>bold</b>" and err.name == "stderr" and "ZeroDivisionError" in err.text
    tex, image, missing = nb.cells[3].outputs
    assert tex.data["text/latex"] == "$$x^{2}$$"
    assert "image/png" in image.data  # p.png sits beside the worksheet
    assert "gone.svg" in missing.text and "CoCalc" in missing.text
    assert nb.cells[4].source == "%gp\nfactor(2^10-1)"


def test_damaged_worksheets_are_400_and_write_nothing(client, root: Path) -> None:
    write_samples(root)
    listing = sorted(p.name for p in root.iterdir())
    for name, words in [("cut.sws", "truncated"), ("cut.sagews", "truncated"), ("fake.sws", "tar.bz2"),
                        ("open.sws", "no closing }}}")]:
        r = client.post("/api/worksheets/import", json={"path": name})
        assert r.status_code == 400, (name, r.text)
        assert words in r.json()["message"] and "nothing was written" in r.json()["message"]
    assert sorted(p.name for p in root.iterdir()) == listing
    assert client.post("/api/worksheets/import", json={"path": "nope.sws"}).status_code == 404
    assert client.post("/api/worksheets/import", json={"path": "p.png"}).status_code == 400
    assert client.post("/api/worksheets/import", json={"path": "../x.sws"}).status_code in (400, 404)
    assert client.post("/api/worksheets/import", json={}).status_code == 400
    assert sorted(p.name for p in root.iterdir()) == listing
