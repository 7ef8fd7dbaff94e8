"""A collaborator's .gitattributes never breaks sync, alters what travels, or runs a filter (real git)."""

from __future__ import annotations

from pathlib import Path

from salvus_sync.git import Git

from .conftest import Laptop

ATTRIBUTES = "* working-tree-encoding=UTF-16\n*.txt eol=crlf\n*.md ident\n*.dat filter=x merge=x diff=x\n"
DRIVER = ('[filter "x"]\n\tclean = touch clean-ran && cat\n\tsmudge = touch smudge-ran && cat\n\trequired = true\n'
          '[merge "x"]\n\tdriver = touch merge-ran && false\n')


def test_sync_round_trip_with_hostile_attributes(laptops: tuple[Laptop, Laptop], hub: Path, workdir: Path,
                                                 sync_env: dict[str, str]) -> None:
    a, b = laptops
    for laptop in (a, b):  # drivers a session could configure: none may run
        with open(laptop.root / ".git" / "config", "a") as f:
            f.write(DRIVER)
    files = {"notes.txt": "line 1\r\nhéllo\n".encode(), "b.md": b"$Id$\n", "c.dat": b"\x00one\xff\n"}
    a.write(".gitattributes", ATTRIBUTES)
    for path, data in files.items():
        a.write(path, data)
    a.sync()
    for path, data in files.items():  # the hub holds the bytes as written
        assert Git(hub).run("cat-file", "blob", f"main:{path}").stdout == data, path
    b.sync("pull")
    c = Laptop(workdir, "laptop-c", sync_env).clone(hub)  # a fresh clone writes the bytes as stored too
    for path, data in files.items():
        assert (b.root / path).read_bytes() == data, path
        assert (c.root / path).read_bytes() == data, path
    assert not [p for p in c.files() if p.endswith("-ran")]
    # Both sides change the same filtered file and other files: a merge, files written raw both ways.
    a.write("c.dat", b"\x00a side\xff\n")
    a.write("a.txt", b"from a\r\n")
    b.write("c.dat", b"\x00b side\xff\n")
    b.write("b.txt", b"from b\r\n")
    a.sync()
    b.sync()
    a.sync("pull")
    for laptop in (a, b):
        assert (laptop.root / "a.txt").read_bytes() == b"from a\r\n"
        assert (laptop.root / "b.txt").read_bytes() == b"from b\r\n"
        assert (laptop.root / "notes.txt").read_bytes() == files["notes.txt"]
        assert not [p for p in laptop.files() if p.endswith("-ran")], laptop.files()
    assert (b.root / "c.dat").read_bytes() == b"\x00b side\xff\n"  # local kept in place, the other beside it
    assert any(p.startswith("c") and p != "c.dat" for p in b.files())
