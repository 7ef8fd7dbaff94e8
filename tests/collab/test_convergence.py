"""Randomized convergence: pycrdt clients editing random cells, going offline, a server restart.

At the end of every trial all clients, the server's document (a fresh client) and the file on disk
hold the same cells; no cell is duplicated or lost; every token typed is there exactly once (unless
its cell was deleted).  Reproduce a failure with ``COLLAB_SEED=<seed>`` (printed on failure).
"""

from __future__ import annotations

import os
import random
import time
from pathlib import Path
from typing import Any

from pycrdt import Array, Map, Text

from tests.collab.conftest import ARGS, client, disk_notebook, notebook, put_notebook, room_status
from tests.collab.yclient import YClient
from tests.conftest import Server, free_port, wait_for

BUDGET = float(os.environ.get("COLLAB_BUDGET", "45"))  # seconds of trials (one of them restarts the server)


class Trial:
    """One notebook, N clients, random operations; knows what must be in the end."""

    def __init__(self, rng: random.Random, server: Server, path: str, n: int) -> None:
        self.rng, self.server, self.path = rng, server, path
        put_notebook(server, path, notebook("", "", ""))
        self.clients = [client(server, path, f"c{i}") for i in range(n)]
        self.tokens: dict[str, str] = {}   # token → id of the cell it was typed into
        self.added: set[str] = set()
        self.deleted: set[str] = set()
        self.count = 0
        self.down = False  # the server is stopped: nobody can connect

    def step(self) -> None:
        """One random operation by a random client (online or not)."""
        c = self.rng.choice(self.clients)
        roll = self.rng.random()
        self.count += 1
        if roll < 0.08 and c.synced.is_set():
            c.disconnect()
        elif roll < 0.16 and not c.synced.is_set():
            if not self.down:
                c.connect()
        else:
            with c.lock:  # the reader thread applies remote updates: read and change under the client's lock
                c.edit(lambda _doc: self._edit(c, roll))

    def _edit(self, c: YClient, roll: float) -> None:
        cells = c.cells
        if roll < 0.24 or not len(cells):
            cid = f"n{self.count}-{c.name}"
            cells.insert(self.rng.randint(0, len(cells)), Map({"id": cid, "cell_type": "code", "source": Text(),
                                                               "metadata": Map(), "outputs": Array(),
                                                               "execution_count": None}))
            self.added.add(cid)
        elif roll < 0.28 and len(cells) > 1:
            index = self.rng.randrange(len(cells))
            self.deleted.add(str(cells[index]["id"]))
            del cells[index]
        else:
            index = self.rng.randrange(len(cells))
            ytext = cells[index]["source"]
            text = str(ytext)
            bounds = [0] + [i + 1 for i, ch in enumerate(text) if ch == "]"]  # between whole tokens
            token = f"[{c.name}.{self.count}]"
            at = self.rng.choice(bounds)
            ytext.insert(len(text[:at].encode()), token)
            self.tokens[token] = str(cells[index]["id"])

    def finish(self) -> None:
        """Bring everyone online and check the end state."""
        for c in self.clients:
            if not c.synced.is_set() or c.ws is None:
                c.disconnect()
                c.connect()
        view = client(self.server, self.path, "observer")
        try:
            def same() -> Any:
                docs = [_cells(c) for c in [*self.clients, view]]
                return all(d == docs[-1] for d in docs) and docs[-1]
            final = wait_for(same, 60, "every client equal to the server's document")
            wait_for(lambda: not room_status(self.server, self.path)["dirty"]
                     and _cells_of(disk_notebook(self.server, self.path)) == final, 30, "the file equal")
        finally:
            view.disconnect()
        ids = [cid for cid, _src in final]
        assert len(ids) == len(set(ids)), f"duplicated cells: {ids}"
        want = ({"c0", "c1", "c2"} | self.added) - self.deleted
        assert set(ids) == want, f"cells lost or resurrected: {set(ids) ^ want}"
        text = "".join(src for _cid, src in final)
        for token, cid in self.tokens.items():
            if cid not in self.deleted:
                assert text.count(token) == 1, f"token {token} appears {text.count(token)} times"
        for c in self.clients:
            c.disconnect()


def _cells(c: YClient) -> list[tuple[str, str]]:
    return [(str(cell["id"]), str(cell["source"])) for cell in c.notebook()]


def _cells_of(nb: dict[str, Any]) -> list[tuple[str, str]]:
    return [(cell["id"], cell["source"]) for cell in nb["cells"]]


def test_random_edits_disconnects_and_a_restart_converge(tmp_path: Path) -> None:
    seed = int(os.environ.get("COLLAB_SEED") or time.time_ns() % 2**32)
    rng = random.Random(seed)
    data_dir, port, token = tmp_path / "data", free_port(), "s" * 32
    server = Server(*ARGS, data_dir=data_dir, port=port, token=token)
    deadline = time.monotonic() + BUDGET
    trials, restarted = 0, False
    try:
        while time.monotonic() < deadline or not restarted:
            trial = Trial(rng, server, f"random-{trials}.ipynb", rng.randint(2, 5))
            try:
                steps = rng.randint(20, 60)
                restart_at = rng.randrange(steps) if not restarted and (trials >= 2 or
                                                                        time.monotonic() > deadline) else -1
                for i in range(steps):
                    if i == restart_at:
                        server.stop()
                        trial.down = True
                        for _ in range(rng.randint(3, 10)):  # edits made while the server is down
                            trial.step()
                        server = trial.server = Server(*ARGS, data_dir=data_dir, port=port, token=token)
                        trial.down = False
                        restarted = True
                        for c in trial.clients:
                            c.disconnect()
                    trial.step()
                trial.finish()
            except BaseException as exc:
                raise AssertionError(f"COLLAB_SEED={seed} trial {trials}: {exc}") from exc
            trials += 1
    finally:
        server.stop()
    print(f"convergence: {trials} trials, seed {seed}")
    assert trials >= 3
