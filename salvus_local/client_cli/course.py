"""``salvus-local course …``: a teacher's course actions against a running multi-user server.

The server is ``--server URL`` (token from ``SALVUS_LOCAL_TOKEN``: a teacher's API token, or the
server's token for the first admin) or the server running on the data dir.  No private server is
started: courses need the accounts of a ``--multi-user`` server.  Exit codes: 0 done, 1 some
students failed (listed), 2 bad input or no server (one line).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click

from .commands import UsageProblem, _data_dir
from .connect import ClientError, Connection, connect, running_server

POLL_SECONDS = 0.5
SERVER_HELP = ("URL of a running multi-user salvus-local (token from $SALVUS_LOCAL_TOKEN: your API token); "
               "default: the server running on the data dir.")


class _Ctx:
    def __init__(self, server: str | None, data_dir: str | None) -> None:
        self.server, self.data_dir = server, data_dir
        self._conn: Connection | None = None

    def conn(self) -> Connection:
        if self._conn is None:
            if self.server:
                self._conn = connect(self.server, _data_dir(self.data_dir))
            else:
                self._conn = running_server(_data_dir(self.data_dir))
                if self._conn is None:
                    raise ClientError("no server runs on this data dir: start `salvus-local --multi-user` "
                                      "or give --server URL (with SALVUS_LOCAL_TOKEN)")
        return self._conn

    def call(self, method: str, path: str, body: Any = None) -> Any:
        return self.conn().call(method, path, body)

    def raw(self, method: str, path: str, data: bytes | None = None, content_type: str | None = None) -> bytes:
        """A request with a non-JSON body or answer (CSV)."""
        return self.conn().raw(method, path, data, content_type)

    def course_id(self, course: str) -> str:
        """A course id from an id or an exact title."""
        listing = self.call("GET", "/api/courses")
        courses = listing["teaching"] + listing["enrolled"]
        hits = [c for c in courses if c["id"] == course] or [c for c in courses if c["title"] == course]
        if len(hits) != 1:
            raise ClientError(f"no course {course!r}" if not hits else
                              f"several courses are titled {course!r}; give its id ({', '.join(c['id'] for c in hits)})")
        return hits[0]["id"]

    def assignment_id(self, cid: str, assignment: str) -> str:
        """An assignment id from an id or its folder name."""
        for a in self.call("GET", f"/api/courses/{cid}")["assignments"]:
            if str(a["id"]) == assignment or a["name"] == assignment:
                return str(a["id"])
        raise ClientError(f"the course has no assignment {assignment!r}")


def _connection_options(fn: Any) -> Any:
    """--server and --data-dir after the subcommand too (``salvus-local course list --server URL``)."""
    def remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is not None:
            setattr(ctx.find_object(_Ctx), param.name, value)
        return value

    fn = click.option("--server", default=None, expose_value=False, callback=remember, help=SERVER_HELP)(fn)
    return click.option("--data-dir", "data_dir", default=None, expose_value=False, callback=remember,
                        help="Data dir whose running server to use.")(fn)


def _run(ctx: click.Context, fn: Any) -> None:
    try:
        code = fn(ctx.obj)
    except ClientError as exc:
        raise UsageProblem(str(exc)) from None
    if code:
        ctx.exit(code)


@click.group()
@click.option("--server", default=None, help=SERVER_HELP)
@click.option("--data-dir", default=None, help="Data dir whose running server to use.")
@click.pass_context
def course(ctx: click.Context, server: str | None, data_dir: str | None) -> None:
    """Courses: create, enroll, hand out, collect, autograde, return, grade book (a --multi-user server)."""
    ctx.obj = _Ctx(server, data_dir)


@course.command("list")
@_connection_options
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Courses you teach and take."""
    def go(c: _Ctx) -> int:
        listing = c.call("GET", "/api/courses")
        for role in ("teaching", "enrolled"):
            for row in listing[role]:
                click.echo(f"{row['id']}\t{row['title']}\t{role}\t{row['students']} students\t"
                           f"{row['assignments']} assignments")
        return 0
    _run(ctx, go)


@course.command()
@click.argument("title")
@_connection_options
@click.pass_context
def create(ctx: click.Context, title: str) -> None:
    """Create a course (and its course project)."""
    def go(c: _Ctx) -> int:
        row = c.call("POST", "/api/courses", {"title": title})
        click.echo(f"{row['id']}\t{row['title']}\tproject {row['project_id']}")
        return 0
    _run(ctx, go)


@course.command("add-students")
@click.argument("course_name", metavar="COURSE")
@click.argument("users", nargs=-1)
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Class list with a header username[,name,password] (unknown users with a password are created).")
@_connection_options
@click.pass_context
def add_students(ctx: click.Context, course_name: str, users: tuple[str, ...], csv_file: Path | None) -> None:
    """Enroll students by username or from a CSV class list."""
    def go(c: _Ctx) -> int:
        if bool(users) == bool(csv_file):
            raise ClientError("give either usernames or --csv FILE")
        cid = c.course_id(course_name)
        if csv_file is not None:
            try:
                data = csv_file.read_bytes()
            except OSError as exc:
                raise ClientError(f"cannot read {csv_file}: {exc.strerror}") from None
            out = json.loads(c.raw("POST", f"/api/courses/{cid}/students", data, "text/csv"))
        else:
            out = c.call("POST", f"/api/courses/{cid}/students", {"usernames": list(users)})
        for name in out["added"]:
            click.echo(f"added\t{name}")
        for fail in out["failed"]:
            click.echo(f"failed\t{fail['username']}\t{fail['message']}")
        return 1 if out["failed"] else 0
    _run(ctx, go)


@course.command()
@click.argument("course_name", metavar="COURSE")
@_connection_options
@click.pass_context
def assignments(ctx: click.Context, course_name: str) -> None:
    """Assignments of a course with their due times and how many students reached each step."""
    def go(c: _Ctx) -> int:
        view = c.call("GET", f"/api/courses/{c.course_id(course_name)}")
        for a in view["assignments"]:
            states: dict[str, int] = {}
            for steps in (view.get("status") or {"me": view.get("mine") or {}}).values():
                state = steps.get(str(a["id"]), {}).get("state", "none")
                states[state] = states.get(state, 0) + 1
            counts = ", ".join(f"{n} {s}" for s, n in sorted(states.items()))
            click.echo(f"{a['id']}\t{a['name']}\t{a['kind']}\tdue {a['due'] or '-'}\t{a['max_score'] or 0:g} points\t{counts}")
        return 0
    _run(ctx, go)


@course.command("add-assignment")
@click.argument("course_name", metavar="COURSE")
@click.argument("name")
@click.option("--due", default=None, help="Due time, ISO-8601 (e.g. 2026-12-01T09:00:00Z).")
@click.option("--handout", is_flag=True, help="A handout: distributed only, never collected.")
@_connection_options
@click.pass_context
def add_assignment(ctx: click.Context, course_name: str, name: str, due: str | None, handout: bool) -> None:
    """Make a folder of the course project an assignment (or a handout)."""
    def go(c: _Ctx) -> int:
        row = c.call("POST", f"/api/courses/{c.course_id(course_name)}/assignments",
                     {"name": name, "kind": "handout" if handout else "assignment", "due": due})
        click.echo(f"{row['id']}\t{row['name']}\t{row['kind']}\tdue {row['due'] or '-'}\t{row['max_score'] or 0:g} points")
        return 0
    _run(ctx, go)


def _job(c: _Ctx, cid: str, path: str, body: Any, action: str) -> int:
    """POST a bulk action, follow its job to the end, print one line per student; 1 when some failed."""
    job_id = c.call("POST", path, body)["job"]
    while True:
        job = c.call("GET", f"/api/courses/{cid}/jobs/{job_id}")
        if job["state"] != "running":
            break
        time.sleep(POLL_SECONDS)
    for r in job["results"]:
        click.echo(f"{r['status']}\t{r['username']}\t{r['message']}")
    failed = sum(r["status"] == "failed" for r in job["results"])
    if job["state"] == "failed":
        raise ClientError(f"{action} failed: {job.get('message')}")
    click.echo(f"{action}: {job['done']} of {job['total']} done, {failed} failed", err=True)
    return 1 if failed else 0


def _bulk(action: str) -> Any:
    @click.argument("course_name", metavar="COURSE")
    @click.argument("assignment")
    @click.option("--student", "students", multiple=True, help="Only this student (repeatable).")
    @_connection_options
    @click.pass_context
    def command(ctx: click.Context, course_name: str, assignment: str, students: tuple[str, ...]) -> None:
        def go(c: _Ctx) -> int:
            cid = c.course_id(course_name)
            aid = c.assignment_id(cid, assignment)
            return _job(c, cid, f"/api/courses/{cid}/assignments/{aid}/{action}",
                        {"students": list(students)} if students else None, action)
        _run(ctx, go)

    command.__doc__ = f"{action.capitalize()} an assignment for every student (or --student …)."
    return course.command(action)(command)


for _action in ("distribute", "collect", "autograde", "return"):
    _bulk(_action)


@course.command()
@click.argument("course_name", metavar="COURSE")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the grade book to this file instead of printing it.")
@_connection_options
@click.pass_context
def grades(ctx: click.Context, course_name: str, csv_file: Path | None) -> None:
    """The grade book (CSV: username, name, one column per assignment, total)."""
    def go(c: _Ctx) -> int:
        data = c.raw("GET", f"/api/courses/{quote(c.course_id(course_name))}/gradebook.csv")
        if csv_file is None:
            click.echo(data.decode("utf-8"), nl=False)
            return 0
        try:
            tmp = csv_file.with_name(f".{csv_file.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, csv_file)
        except OSError as exc:
            raise ClientError(f"cannot write {csv_file}: {exc.strerror}") from None
        click.echo(f"wrote {csv_file}", err=True)
        return 0
    _run(ctx, go)


@course.group()
def peer() -> None:
    """Peer review: assign collected submissions to anonymous peers, collect their reviews."""


@peer.command("assign")
@click.argument("course_name", metavar="COURSE")
@click.argument("assignment")
@click.option("--per", "per_submission", type=int, default=None, help="Reviews per submission (default 2).")
@click.option("--guide", "guide_file", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Grading guide for the reviewers (a markdown file).")
@click.option("--due", default=None, help="Due time of the reviews, ISO-8601 (e.g. 2026-12-08T09:00:00Z).")
@_connection_options
@click.pass_context
def peer_assign(ctx: click.Context, course_name: str, assignment: str, per_submission: int | None,
                guide_file: Path | None, due: str | None) -> None:
    """Set up peer review (if needed) and send each collected submission, author-free, to its reviewers."""
    def go(c: _Ctx) -> int:
        cid = c.course_id(course_name)
        aid = c.assignment_id(cid, assignment)
        base = f"/api/courses/{cid}/assignments/{aid}/peer"
        settings: dict[str, Any] = {}
        if per_submission is not None:
            settings["per_submission"] = per_submission
        if guide_file is not None:
            try:
                settings["guide"] = guide_file.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ClientError(f"cannot read {guide_file}: {getattr(exc, 'strerror', None) or exc}") from None
        if due is not None:
            settings["due"] = due
        view = c.call("GET", f"/api/courses/{cid}")
        current = next(a for a in view["assignments"] if str(a["id"]) == aid).get("peer")
        if settings or current is None:
            c.call("PUT", base, settings)
        return _job(c, cid, f"{base}/assign", None, "peer assign")
    _run(ctx, go)


@peer.command("collect")
@click.argument("course_name", metavar="COURSE")
@click.argument("assignment")
@click.option("--grade", type=click.Choice(["median", "mean", "none"]), default="none", show_default=True,
              help="Put the median or mean of the peers' points into each graded submission.")
@_connection_options
@click.pass_context
def peer_collect(ctx: click.Context, course_name: str, assignment: str, grade: str) -> None:
    """Close peer review and list each submission's reviews; --grade takes the peers' points as the grade."""
    def go(c: _Ctx) -> int:
        cid = c.course_id(course_name)
        aid = c.assignment_id(cid, assignment)
        return _job(c, cid, f"/api/courses/{cid}/assignments/{aid}/peer/collect",
                    {"grade": None if grade == "none" else grade}, "peer collect")
    _run(ctx, go)
