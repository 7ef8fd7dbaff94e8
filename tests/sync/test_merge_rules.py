"""Each merge rule of issue 9 §4, with two laptops working offline against a bare repository."""

from __future__ import annotations

import json
import re

import nbformat

from salvus_sync.git import Git

from .conftest import Laptop, fsck

BESIDE = re.compile(r"^notes \(from laptop-a, \d{4}-\d\d-\d\d \d\d-\d\d\)\.txt$")


def notebook(*sources: str) -> str:
    """An nbformat v4 notebook with one code cell per source (stable cell ids)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in sources]
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i}"
    return nbformat.writes(nb)


def test_two_laptops_offline_then_both_see_everything(laptops: tuple[Laptop, Laptop], hub) -> None:
    a, b = laptops
    a.write("chapter1.txt", "A wrote this\n")
    a.write("notes.txt", "line 1 edited by A\nline 2\nline 3\n")
    b.write("figures/plot.txt", "B wrote this\n")
    b.write("notes.txt", "line 1\nline 2\nline 3 edited by B\n")
    a.sync()
    out = b.sync().stdout
    assert "merged" in out and "conflict" not in out
    a.sync()
    for laptop in (a, b):
        assert laptop.read("notes.txt") == "line 1 edited by A\nline 2\nline 3 edited by B\n"
        assert laptop.files() == {"notes.txt", "chapter1.txt", "figures/plot.txt"}
        assert laptop.status()["state"] == "synced"
    # Local work is committed first, by the account, naming the machine; merges follow ancestry.
    log = b.git("log", "--format=%an|%s", "-n", "3")
    assert "Work on laptop-b" in log and "Sync on laptop-b: merge" in log
    fsck(hub)
    fsck(a.root)


def test_text_conflict_keeps_local_in_place_and_the_other_beside(laptops: tuple[Laptop, Laptop]) -> None:
    a, b = laptops
    a.write("notes.txt", "line 1 by A\nline 2\nline 3\n")
    b.write("notes.txt", "line 1 by B\nline 2\nline 3\n")
    a.sync()
    out = b.sync().stdout
    assert b.read("notes.txt") == "line 1 by B\nline 2\nline 3\n"  # local stays in place, no markers
    (beside,) = [f for f in b.files() if f.startswith("notes (")]
    assert BESIDE.match(beside), beside
    assert b.read(beside) == "line 1 by A\nline 2\nline 3\n"
    assert f"conflict (text): notes.txt — other version: {beside}" in out
    status = b.status()
    assert status["state"] == "conflict"
    assert status["conflicts"] == [{"path": "notes.txt", "kind": "text", "other": beside}]
    a.sync()
    assert a.read(beside) == "line 1 by A\nline 2\nline 3\n" and a.read("notes.txt") == "line 1 by B\nline 2\nline 3\n"
    # Once the copy beside is dealt with (deleted), the conflict is no longer listed.
    (b.root / beside).unlink()
    b.sync()
    assert b.status()["conflicts"] == []


def test_binary_conflict_keeps_both(laptops: tuple[Laptop, Laptop]) -> None:
    a, b = laptops
    a.write("image.bin", b"\x00\x01base")
    a.sync()
    b.sync()
    a.write("image.bin", b"\x00\x01from A")
    b.write("image.bin", b"\x00\x01from B")
    a.sync()
    b.sync()
    assert (b.root / "image.bin").read_bytes() == b"\x00\x01from B"
    (beside,) = [f for f in b.files() if f.startswith("image (from laptop-a")]
    assert beside.endswith(".bin") and (b.root / beside).read_bytes() == b"\x00\x01from A"
    assert b.status()["conflicts"][0]["kind"] == "binary"


def test_notebooks_merge_cell_wise(laptops: tuple[Laptop, Laptop]) -> None:
    a, b = laptops
    a.write("work.ipynb", notebook("x = 1", "y = 2", "z = 3"))
    a.sync()
    b.sync()
    # Different cells: merged, no conflict (a text merge of this JSON would collide: adjacent lines).
    a.write("work.ipynb", notebook("x = 10", "y = 2", "z = 3"))
    b.write("work.ipynb", notebook("x = 1", "y = 20", "z = 3"))
    a.sync()
    b.sync()
    nb = nbformat.reads(b.read("work.ipynb"), as_version=4)
    nbformat.validate(nb)
    assert [c.source for c in nb.cells] == ["x = 10", "y = 20", "z = 3"]
    assert b.status()["conflicts"] == []
    # The same cell: a valid notebook showing both versions, listed as a conflict.
    a.sync()
    a.write("work.ipynb", notebook("x = 10", "y = 20", "z = 'A'"))
    b.write("work.ipynb", notebook("x = 10", "y = 20", "z = 'B'"))
    a.sync()
    b.sync()
    nb = nbformat.reads(b.read("work.ipynb"), as_version=4)
    nbformat.validate(nb)
    source = nb.cells[2].source
    assert "z = 'A'" in source and "z = 'B'" in source
    assert {"path": "work.ipynb", "kind": "notebook"} in b.status()["conflicts"]
    assert not [f for f in b.files() if f.startswith("work (")]  # both versions are inside the notebook


def test_edit_beats_delete_both_ways(laptops: tuple[Laptop, Laptop]) -> None:
    a, b = laptops
    a.write("keep-a.txt", "one\n")
    a.write("keep-b.txt", "two\n")
    a.sync()
    b.sync()
    a.write("keep-a.txt", "one, edited on A\n")  # A edits what B deletes
    (b.root / "keep-a.txt").unlink()
    (a.root / "keep-b.txt").unlink()  # A deletes what B edits
    b.write("keep-b.txt", "two, edited on B\n")
    a.sync()
    b.sync()
    a.sync()
    for laptop in (a, b):
        assert laptop.read("keep-a.txt") == "one, edited on A\n"
        assert laptop.read("keep-b.txt") == "two, edited on B\n"


def test_rename_vs_edit_ends_at_the_new_path(laptops: tuple[Laptop, Laptop]) -> None:
    a, b = laptops
    text = "".join(f"paragraph {i}\n" for i in range(20))
    a.write("draft.txt", text)
    a.sync()
    b.sync()
    (a.root / "draft.txt").rename(a.root / "final.txt")
    b.write("draft.txt", text.replace("paragraph 7", "paragraph 7, improved on B"))
    a.sync()
    b.sync()
    a.sync()
    for laptop in (a, b):
        assert "draft.txt" not in laptop.files()
        assert "paragraph 7, improved on B" in laptop.read("final.txt")


def test_no_silent_directory_rename_moves(laptops: tuple[Laptop, Laptop]) -> None:
    a, b = laptops
    a.write("old/one.txt", "1\n")
    a.write("old/two.txt", "2\n")
    a.sync()
    b.sync()
    (a.root / "old").rename(a.root / "new")
    b.write("old/three.txt", "3, added on B\n")  # git's directory-rename detection would move it to new/
    a.sync()
    b.sync()
    assert b.read("old/three.txt") == "3, added on B\n"
    assert b.files() >= {"new/one.txt", "new/two.txt", "old/three.txt"}


def test_local_untracked_file_at_an_added_path_is_renamed_not_overwritten(laptops: tuple[Laptop, Laptop]) -> None:
    a, b = laptops
    # B keeps data.csv out of git (ignored), so committing local work leaves it untracked.
    exclude = b.root / ".git" / "info" / "exclude"
    exclude.write_text(exclude.read_text() + "data.csv\n" if exclude.exists() else "data.csv\n")
    b.write("data.csv", "B's private data\n")
    a.write("data.csv", "A's shared data\n")
    a.sync()
    out = b.sync().stdout
    assert b.read("data.csv") == "A's shared data\n"
    (moved,) = [f for f in b.files() if f.startswith("data (from laptop-b")]
    assert b.read(moved) == "B's private data\n"
    assert "untracked-renamed" in out


def test_rewritten_remote_history_keeps_local_commits_on_a_backup_ref(laptops: tuple[Laptop, Laptop], hub) -> None:
    a, b = laptops
    a.write("a1.txt", "A's first\n")
    a.sync()
    b.sync()
    b.write("b-local.txt", "B's unsynced work\n")
    b.sync("pull")  # B commits its work locally but does not push
    before = b.git("rev-parse", "HEAD")
    # Someone rewrites the hub's history: a new root commit, force-pushed.
    a.git("checkout", "-q", "--orphan", "rewrite")
    a.write("rewritten.txt", "new history\n")
    a.git("add", "-A")
    a.git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "rewrite")
    a.git("push", "-q", "--force", "salvus", "rewrite:refs/heads/main")
    out = b.sync().stdout
    assert "history was rewritten" in out
    backups = b.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/salvus/backup/").splitlines()
    assert len(backups) == 1 and backups[0].endswith(before)
    assert b.read("b-local.txt") == "B's unsynced work\n"  # never reset --hard
    assert b.read("rewritten.txt") == "new history\n"
    assert b.git("merge-base", "--is-ancestor", before, "HEAD") == ""
    fsck(hub)


def test_unreachable_remote_changes_nothing_and_says_offline(laptops: tuple[Laptop, Laptop], hub) -> None:
    a, b = laptops
    a.write("notes.txt", "changed on A\n")
    a.sync()
    head = b.git("rev-parse", "HEAD")
    hub.rename(hub.with_name("hub-away.git"))  # the hub goes away
    b.write("mine.txt", "offline work\n")
    proc = b.sync(check=False)
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: cannot reach the remote") and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert b.read("notes.txt") == "line 1\nline 2\nline 3\n"  # work tree untouched without a fetch
    assert b.read("mine.txt") == "offline work\n"
    status = b.status()
    assert status["offline"] and status["state"] == "offline" and "cannot reach" in status["last_error"]
    assert b.git("rev-list", "--count", f"{head}..HEAD") == "1"  # the local work is committed, nothing else
    hub.with_name("hub-away.git").rename(hub)
    b.sync()
    assert b.read("notes.txt") == "changed on A\n" and not b.status()["offline"]


def test_oversize_files_are_refused_before_transfer_and_named(laptops: tuple[Laptop, Laptop], hub) -> None:
    a, b = laptops
    a.env = {**a.env, "SALVUS_LOCAL_SYNC_MAX_FILE_MB": "1"}
    a.write("big.bin", b"\x00" * (2 * 1024 * 1024))
    a.write("small.txt", "fits\n")
    proc = a.sync()
    assert "not synced (over the size limit): big.bin" in proc.stderr
    b.sync()
    assert b.read("small.txt") == "fits\n" and "big.bin" not in b.files()
    assert (a.root / "big.bin").exists()
    # A big file committed outside sync is refused before any transfer, by name.
    a.git("add", "big.bin")
    a.git("-c", "user.name=x", "-c", "user.email=x@x", "commit", "-q", "-m", "big")
    proc = a.sync("push", check=False)
    assert proc.returncode == 1 and "big.bin" in proc.stderr and "over 1 MB" in proc.stderr
    assert "big.bin" not in Git(hub).out("ls-tree", "-r", "--name-only", "main")


def test_push_refuses_when_the_remote_has_new_work(laptops: tuple[Laptop, Laptop]) -> None:
    a, b = laptops
    a.write("x.txt", "x\n")
    a.sync()
    b.write("y.txt", "y\n")
    proc = b.sync("push", check=False)
    assert proc.returncode == 1 and "run `salvus-local sync`" in proc.stderr
    assert "x.txt" not in b.files()  # push never changes the work tree
    b.sync()
    assert {"x.txt", "y.txt"} <= b.files()


def test_status_json_shape(laptops: tuple[Laptop, Laptop]) -> None:
    a, _b = laptops
    a.write("new.txt", "n\n")
    status = a.status()
    assert status["state"] == "ahead" and status["uncommitted"] == 1 and status["branch"] == "main"
    assert set(status) >= {"ahead", "behind", "conflicts", "last_sync", "offline", "url"}
    json.dumps(status)
