"""`salvus-local sync login`: the device-code sign-in approved on the hub, --token, logout revoking on the hub."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from pathlib import Path

import requests

from tests.accounts.conftest import make_user
from tests.conftest import REPO, Server, wait_for

from .conftest import Laptop, sync_token

CODE = re.compile(r"enter the code ([A-Z0-9]{4}-[A-Z0-9]{4})")


def start_login(laptop: Laptop, hub: Server) -> tuple[subprocess.Popen, list[str]]:
    """Start `sync login HUB` (no browser); collect its stderr lines as they come (until "END")."""
    argv = [sys.executable, "-m", "salvus_local", "sync", "--data-dir", str(laptop.data_dir), "--machine", laptop.name,
            "login", hub.base_url, "--no-browser"]
    proc = subprocess.Popen(argv, env=laptop.env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    lines: list[str] = []
    def read() -> None:
        lines.extend(iter(proc.stderr.readline, ""))
        lines.append("END")

    threading.Thread(target=read, daemon=True).start()
    return proc, lines


def finish(proc: subprocess.Popen, lines: list[str]) -> str:
    """Wait for the command to end; its stdout (stderr is all in lines then)."""
    out = proc.stdout.read()
    proc.wait(timeout=120)
    wait_for(lambda: lines and lines[-1] == "END", timeout=60, what="stderr to be read")
    return out


def printed_code(lines: list[str]) -> str:
    wait_for(lambda: any(CODE.search(ln) for ln in lines), timeout=60, what="the user code to be printed")
    return next(CODE.search(ln).group(1) for ln in lines if CODE.search(ln))


def test_device_login_is_approved_on_the_hub_and_logout_revokes(hub_server: Server, workdir: Path,
                                                                sync_env: dict[str, str]) -> None:
    alice = make_user(hub_server, prefix="alice")
    laptop = Laptop(workdir, "laptop-a", sync_env)
    proc, lines = start_login(laptop, hub_server)
    code = printed_code(lines)
    text = "".join(lines)
    assert hub_server.url("/sync/device") in text and f"?code={code}" in text
    # The approve page's API shows which machine asks, before anything is approved.
    r = alice.get(f"/api/sync/device/pending?user_code={code.lower()}")
    assert r.status_code == 200 and r.json()["machine"] == "laptop-a", r.text
    wrong = alice.post("/api/sync/device/approve", json={"user_code": "BBBB-BBBB"})
    assert wrong.status_code == 404 and "code" in wrong.json()["message"]
    r = alice.post("/api/sync/device/approve", json={"user_code": code})
    assert r.status_code == 200 and r.json() == {"machine": "laptop-a", "allowed": True}, r.text
    out = finish(proc, lines)
    assert proc.returncode == 0, "".join(lines)
    assert f"signed in to {hub_server.base_url} as {alice.name}" in out
    stored = laptop.data_dir / "sync-tokens.json"
    assert stored.stat().st_mode & 0o777 == 0o600
    token = json.loads(stored.read_text())[hub_server.base_url]
    # A token of scope sync, named after the machine, listed on the hub's Settings page.
    (row,) = [t for t in alice.get("/api/tokens").json()["tokens"] if token.startswith(t["prefix"])]
    assert row["scope"] == "sync" and row["note"] == "sync login from laptop-a"
    headers = {"Authorization": f"token {token}"}
    assert requests.get(hub_server.url("/api/sync/projects"), headers=headers, timeout=60).status_code == 200
    # The code worked once: approving it again finds nothing.
    assert alice.post("/api/sync/device/approve", json={"user_code": code}).status_code == 404
    # A sync token cannot approve other devices (it may only push and pull).
    start = requests.post(hub_server.url("/api/sync/device"), json={"machine": "evil"}, timeout=60).json()
    r = requests.post(hub_server.url("/api/sync/device/approve"), json={"user_code": start["user_code"]},
                      headers=headers, timeout=60)
    assert r.status_code == 403
    # Logout revokes the token on the hub, then forgets it here.
    assert "signed out" in laptop.cli("logout", hub_server.base_url).stdout
    assert token not in stored.read_text()
    assert not [t for t in alice.get("/api/tokens").json()["tokens"] if token.startswith(t["prefix"])]
    r = requests.get(hub_server.url("/api/sync/projects"), headers=headers, timeout=60)
    assert r.status_code == 401 and "sync login" in r.json()["message"]


def test_device_login_refused_slow_down_and_expired_codes(hub_server: Server, workdir: Path,
                                                          sync_env: dict[str, str]) -> None:
    bob = make_user(hub_server, prefix="bob")
    laptop = Laptop(workdir, "laptop-b", sync_env)
    proc, lines = start_login(laptop, hub_server)
    code = printed_code(lines)
    assert bob.post("/api/sync/device/approve", json={"user_code": code, "allow": False}).status_code == 200
    finish(proc, lines)
    assert proc.returncode == 1 and "refused" in "".join(lines) and "Traceback" not in "".join(lines)
    assert not (laptop.data_dir / "sync-tokens.json").exists()
    # RFC 8628's answers to polling: pending, slow_down when too fast, expired_token for unknown codes.
    grant = requests.post(hub_server.url("/api/sync/device"), json={}, timeout=60).json()
    assert set(grant) >= {"device_code", "user_code", "verification_uri", "interval", "expires_in"}
    poll = lambda code: requests.post(hub_server.url("/api/sync/device/token"), json={"device_code": code},
                                      timeout=60)
    first, second = poll(grant["device_code"]), poll(grant["device_code"])
    assert first.status_code == 400 and first.json()["error"] == "authorization_pending"
    assert second.status_code == 400 and second.json()["error"] == "slow_down"
    assert poll("not-a-code").json()["error"] == "expired_token"
    assert requests.post(hub_server.url("/api/sync/device/token"), json={}, timeout=60).status_code == 400
    # --token for scripts: checked against the hub before it is kept.
    token = sync_token(bob)
    assert f"as {bob.name}" in laptop.cli("login", hub_server.base_url, "--token", token).stdout


def test_login_to_a_server_without_accounts_says_so(server: Server, workdir: Path, sync_env: dict[str, str]) -> None:
    proc = Laptop(workdir, "laptop-c", sync_env).cli("login", server.base_url, "--no-browser", check=False)
    assert proc.returncode == 1 and "--token" in proc.stderr and "Traceback" not in proc.stderr


def test_odd_user_codes_and_single_user_servers_get_a_4xx(hub_server: Server, server: Server) -> None:
    """Found by the fuzz test: a non-ASCII code (hmac.compare_digest takes ASCII only) and a server without accounts
    answered 500 instead of saying what is wrong."""
    alice = make_user(hub_server, prefix="alice")
    requests.post(hub_server.url("/api/sync/device"), json={"machine": "m"}, timeout=30)  # one grant waiting
    for code in ["", "û𑀟", "&H\U00042e7eT\x93"]:
        r = alice.post("/api/sync/device/approve", json={"user_code": code})
        assert r.status_code == 404 and "No sign-in is waiting" in r.json()["message"], (code, r.text)
    r = server.post("/api/sync/device/approve", json={"user_code": "ABCD-EFGH"})
    assert r.status_code == 404 and "single-user" in r.json()["message"], r.text


def test_one_address_cannot_fill_the_hub_with_sign_ins_or_guess_codes(hub_server: Server) -> None:
    """No sign-in is needed to start one: 1,000 starts from one address locked every laptop out for 10 minutes;
    code look-ups on the approve page's API were not throttled (an oracle for guessing); a machine name with a
    right-to-left override rewrote the approve page's sentence around it."""
    start = lambda machine="m": requests.post(hub_server.url("/api/sync/device"), json={"machine": machine}, timeout=30)
    first = start("laptop\u202e.bad\u200b")
    assert first.status_code == 200, first.text
    for _ in range(19):
        assert start().status_code == 200
    r = start()
    assert r.status_code == 429 and "try again" in r.json()["message"] and int(r.headers["Retry-After"]) > 0, r.text
    eve = make_user(hub_server, prefix="eve")
    shown = eve.get(f"/api/sync/device/pending?user_code={first.json()['user_code']}")
    assert shown.status_code == 200 and shown.json()["machine"] == "laptop.bad", shown.text
    statuses = [eve.get("/api/sync/device/pending?user_code=BBBB-BBBB").status_code for _ in range(8)]
    assert statuses[0] == 404 and statuses[-1] == 429, statuses
    # The same budget as approving: guesses there wait too.
    assert eve.post("/api/sync/device/approve", json={"user_code": "CCCC-CCCC"}).status_code == 429


def test_a_pending_login_survives_a_hub_restart(start_server, workdir: Path, sync_env: dict[str, str]) -> None:
    """Grants are kept in SQLite: the hub restarts between `sync login` printing its code and the approval."""
    from tests.accounts.conftest import PYTHON_ONLY

    data = workdir / "hub-data"
    data.mkdir()
    hub = start_server("--multi-user", env=PYTHON_ONLY, data_dir=data)
    alice = make_user(hub, prefix="alice")
    laptop = Laptop(workdir, "laptop-r", sync_env)
    proc, lines = start_login(laptop, hub)
    code = printed_code(lines)
    hub.stop()
    hub = start_server("--multi-user", env=PYTHON_ONLY, data_dir=data, port=hub.port, token=hub.token)
    alice.srv = hub  # the same address; her login session is in the hub's database too
    r = alice.get(f"/api/sync/device/pending?user_code={code}")
    assert r.status_code == 200 and r.json()["machine"] == "laptop-r", r.text
    assert alice.post("/api/sync/device/approve", json={"user_code": code}).status_code == 200
    out = finish(proc, lines)
    assert proc.returncode == 0 and f"signed in to {hub.base_url} as {alice.name}" in out, "".join(lines)
    token = json.loads((laptop.data_dir / "sync-tokens.json").read_text())[hub.base_url]
    assert requests.get(hub.url("/api/sync/projects"), headers={"Authorization": f"token {token}"},
                        timeout=60).status_code == 200
    # Only hashes of the codes are stored, and the used grant is gone.
    db = (data / "salvus.db").read_bytes() + b"".join(p.read_bytes() for p in data.glob("salvus.db-wal"))
    assert code.replace("-", "").encode() not in db
    assert alice.post("/api/sync/device/approve", json={"user_code": code}).status_code == 404


def test_login_token_given_in_argv_leaves_it_at_once(workdir: Path, sync_env: dict[str, str]) -> None:
    """`sync login --token T`: while the command runs (here: asking a "hub" that never answers), T is not in its argv."""
    import secrets
    import socket

    listener = socket.create_server(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    token = f"argv-{secrets.token_hex(16)}"
    argv = [sys.executable, "-m", "salvus_local", "sync", "--data-dir", str(workdir / "data"), "login", url,
            "--token", token]
    proc = subprocess.Popen(argv, env=sync_env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        listener.settimeout(120)
        conn, _ = listener.accept()  # the command now checks the token with the "hub": past any re-exec
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes()
        conn.close()
    finally:
        listener.close()
        out, err = proc.communicate(timeout=120)
    assert b"login" in cmdline and token.encode() not in cmdline, cmdline
    assert token not in out + err
    assert proc.returncode != 0 and len(err.strip().splitlines()) == 1, err
