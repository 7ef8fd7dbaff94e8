"""Named, idempotent schema migrations of salvus.db (applied in order, each once)."""

from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("salvus_local")


@migrations(name="0001_projects")
def projects(db: sqlite_utils.Database) -> None:
    """Projects: a directory each; soft-deleted into a trash, archivable."""
    db["projects"].create(
        {
            "id": str,
            "title": str,
            "path": str,
            "in_place": int,  # 1: an existing folder opened where it is; never moved or deleted by us
            "origin": str,  # clone URL, if cloned
            "created": float,
            "last_opened": float,
            "archived": int,
            "deleted": float,  # time it went to the trash; NULL when live
            "trash_path": str,  # where its files went, for restore
        },
        pk="id",
        not_null={"title", "path", "created"},
        defaults={"in_place": 0, "archived": 0},
    )
    db.execute("create unique index projects_live_path on projects(path) where deleted is null")


@migrations(name="0002_files")
def files(db: sqlite_utils.Database) -> None:
    """File index: every file of every project, refreshed by snapshots."""
    db["files"].create(
        {"project_id": str, "path": str, "size": int, "mtime": float},
        pk=("project_id", "path"),
        foreign_keys=[("project_id", "projects", "id")],
    )


@migrations(name="0003_computations")
def computations(db: sqlite_utils.Database) -> None:
    """Computation history: one row per executed cell, full-text indexed."""
    db["computations"].create(
        {
            "id": int,
            "project_id": str,
            "path": str,
            "cell_id": str,
            "kernel_id": str,
            "execution_count": int,
            "input": str,
            "output": str,
            "status": str,
            "time": float,
        },
        pk="id",
    )
    db["computations"].create_index(["project_id", "time"])
    db["computations"].enable_fts(["input", "output"], fts_version="FTS5", create_triggers=True)


@migrations(name="0004_settings")
def settings(db: sqlite_utils.Database) -> None:
    """Small key/value settings remembered across runs."""
    db["settings"].create({"key": str, "value": str}, pk="key")


@migrations(name="0005_accounts")
def accounts(db: sqlite_utils.Database) -> None:
    """Users, login sessions, API tokens, project owners and collaborators (salvus_local/accounts)."""
    db["users"].create(
        {
            "id": int,
            "name": str,
            "display_name": str,
            "role": str,  # admin | teacher | student
            "status": str,  # active | pending
            "password_hash": str,  # argon2id; NULL: no password login (the token URL only)
            "must_change_password": int,
            "home_project": str,
            "created": float,
            "last_seen": float,
            "deleted": float,  # time it was removed; NULL while it exists
        },
        pk="id",
        not_null={"name", "role", "status", "created"},
        defaults={"status": "active", "must_change_password": 0, "display_name": ""},
    )
    db.execute("create unique index users_live_name on users(name) where deleted is null")
    db["login_sessions"].create(
        {"id_hash": str, "user_id": int, "created": float, "last_seen": float, "address": str, "agent": str},
        pk="id_hash",
        foreign_keys=[("user_id", "users", "id")],
    )
    db["login_sessions"].create_index(["user_id"])
    db["api_tokens"].create(
        {"id": int, "user_id": int, "prefix": str, "hash": str, "scope": str, "note": str,
         "created": float, "expires": float, "last_used": float},
        pk="id",
        not_null={"user_id", "prefix", "hash", "scope", "created"},
        foreign_keys=[("user_id", "users", "id")],
    )
    db["api_tokens"].create_index(["prefix"])
    db["projects"].add_column("owner_id", int)  # NULL: the first admin's (projects from single-user days)
    db["project_members"].create(
        {"project_id": str, "user_id": int, "role": str},  # role: editor | viewer
        pk=("project_id", "user_id"),
        foreign_keys=[("project_id", "projects", "id"), ("user_id", "users", "id")],
    )


@migrations(name="0006_shares")
def shares(db: sqlite_utils.Database) -> None:
    """Published files and folders: read-only at /share/<slug>/ (server/share)."""
    db["shares"].create(
        {
            "slug": str,
            "project_id": str,
            "path": str,  # API path inside the project ("" = its top folder)
            "kind": str,  # "file" or "directory"
            "public": int,  # 1: no login needed to view
            "created": float,
        },
        pk="slug",
        not_null={"project_id", "path", "kind", "created"},
        defaults={"public": 1},
    )
    db["shares"].create_index(["project_id", "path"], unique=True)


@migrations(name="0007_project_uids")
def project_uids(db: sqlite_utils.Database) -> None:
    """A uid per project (root servers): its kernels and terminals run as it; see store/uids.py."""
    db["project_uids"].create({"project_id": str, "uid": int, "assigned": float}, pk="project_id",
                              not_null={"uid"})
    db.execute("create unique index project_uids_uid on project_uids(uid)")


@migrations(name="0008_courses")
def courses(db: sqlite_utils.Database) -> None:
    """Courses (salvus_local/courses): students, assignments, per-student status, distributed files, grades."""
    db["courses"].create(
        {"id": str, "title": str, "project_id": str, "teacher_id": int, "created": float, "deleted": float},
        pk="id", not_null={"title", "project_id", "teacher_id", "created"},
        foreign_keys=[("teacher_id", "users", "id")],
    )
    db["course_students"].create(
        {"course_id": str, "user_id": int, "project_id": str, "added": float},
        pk=("course_id", "user_id"),
        foreign_keys=[("course_id", "courses", "id"), ("user_id", "users", "id")],
    )
    db["course_students"].create_index(["user_id"])
    db["assignments"].create(
        {"id": int, "course_id": str, "name": str, "kind": str, "due": float, "created": float, "max_score": float},
        pk="id", not_null={"course_id", "name", "kind", "created"},
        foreign_keys=[("course_id", "courses", "id")],
    )
    db.execute("create unique index assignments_course_name on assignments(course_id, name)")
    db["assignment_extensions"].create(
        {"assignment_id": int, "user_id": int, "due": float},
        pk=("assignment_id", "user_id"), not_null={"due"},
        foreign_keys=[("assignment_id", "assignments", "id"), ("user_id", "users", "id")],
    )
    db["submissions"].create(
        {"assignment_id": int, "user_id": int, "state": str, "late": int, "distributed_at": float,
         "collected_at": float, "last_change": float, "version": str, "score": float, "max_score": float,
         "needs_manual": int, "message": str, "warnings": str, "graded_at": float, "returned_at": float},
        pk=("assignment_id", "user_id"), not_null={"state"},
        defaults={"state": "none", "late": 0, "needs_manual": 0, "message": ""},
        foreign_keys=[("assignment_id", "assignments", "id"), ("user_id", "users", "id")],
    )
    db["distributed_files"].create(
        {"assignment_id": int, "user_id": int, "path": str, "sha256": str, "distributed_at": float},
        pk=("assignment_id", "user_id", "path"), not_null={"sha256"},
        foreign_keys=[("assignment_id", "assignments", "id"), ("user_id", "users", "id")],
    )
    db["grades"].create(
        {"assignment_id": int, "user_id": int, "notebook": str, "grade_id": str, "kind": str, "cell_type": str,
         "position": int, "auto_points": float, "manual_points": float, "max_points": float, "comment": str},
        pk=("assignment_id", "user_id", "notebook", "grade_id"), not_null={"kind"},
        defaults={"comment": ""},
        foreign_keys=[("assignment_id", "assignments", "id"), ("user_id", "users", "id")],
    )


@migrations(name="0009_collab")
def collab(db: sqlite_utils.Database) -> None:
    """Realtime collaboration (salvus_local/collab): each room's Yjs updates, stored before they are broadcast."""
    db["collab_updates"].create({"id": int, "project_id": str, "path": str, "data": bytes, "created": float},
                                pk="id", not_null={"project_id", "path", "data"})
    db["collab_updates"].create_index(["project_id", "path", "id"])
    # load_base: the file's content when this room's history began (JSON); disk_base: as last read or written.
    db["collab_rooms"].create({"project_id": str, "path": str, "kind": str, "load_base": str, "disk_base": str,
                               "updated": float}, pk=("project_id", "path"))


@migrations(name="0010_chat")
def chat(db: sqlite_utils.Database) -> None:
    """Chat per project and per file, @mentions, read markers (salvus_local/chat)."""
    # AUTOINCREMENT: an id is never reused after a delete, so read markers (ids) stay meaningful.
    db.execute("""
        create table chat_messages (
            id integer primary key autoincrement,
            project_id text not null,
            path text not null default '',  -- '' = the project's own chat, else a file's API path
            author_id integer not null,     -- users.id; 0 = the single user
            author text not null,           -- the author's name when they wrote it
            body text not null,             -- markdown
            time float not null,
            edited float
        )""")
    db["chat_messages"].create_index(["project_id", "path", "id"])
    db["chat_messages"].enable_fts(["body"], fts_version="FTS5", create_triggers=True)
    db["chat_mentions"].create({"message_id": int, "user_id": int}, pk=("message_id", "user_id"))
    db["chat_mentions"].create_index(["user_id"])
    db["chat_reads"].create({"user_id": int, "project_id": str, "path": str, "up_to": int},
                            pk=("user_id", "project_id", "path"), not_null={"up_to"})


@migrations(name="0011_peer_review")
def peer_review(db: sqlite_utils.Database) -> None:
    """Peer review of course assignments (salvus_local/courses/peer.py): settings per assignment, one row per review."""
    # questions: JSON [{notebook, grade_id, max_points}] as reviewers score them; seed: the pairing's, kept for replay.
    db["peer_settings"].create(
        {"assignment_id": int, "per_submission": int, "guide": str, "due": float, "seed": str, "questions": str,
         "assigned_at": float, "closed_at": float},
        pk="assignment_id", not_null={"per_submission", "seed"}, defaults={"guide": "", "questions": "[]"},
        foreign_keys=[("assignment_id", "assignments", "id")],
    )
    # anon_id: what the reviewer sees instead of the author (their folder's name); points: JSON {grade_id: points}.
    db["peer_reviews"].create(
        {"assignment_id": int, "author_id": int, "reviewer_id": int, "anon_id": str, "points": str, "comment": str,
         "updated": float, "assigned_at": float},
        pk=("assignment_id", "author_id", "reviewer_id"), not_null={"anon_id"},
        defaults={"points": "{}", "comment": ""},
        foreign_keys=[("assignment_id", "assignments", "id"), ("author_id", "users", "id"),
                      ("reviewer_id", "users", "id")],
    )
    db.execute("create unique index peer_reviews_anon on peer_reviews(assignment_id, anon_id)")
    db["peer_reviews"].create_index(["assignment_id", "reviewer_id"])


@migrations(name="0012_sync_device_grants")
def sync_device_grants(db: sqlite_utils.Database) -> None:
    """Pending `salvus-local sync login` device grants (accounts/devices.py), kept across hub restarts."""
    # Both codes only as SHA-256 hashes; user_id is set on approval, denied on refusal.
    db["sync_device_grants"].create(
        {"device_hash": str, "user_hash": str, "machine": str, "address": str, "created": float, "expires": float,
         "last_poll": float, "interval": float, "user_id": int, "denied": int},
        pk="device_hash", not_null={"user_hash", "machine", "created", "expires"},
        defaults={"last_poll": 0.0, "interval": 5.0, "denied": 0},
    )
    db.execute("create unique index sync_device_grants_user on sync_device_grants(user_hash)")
