"""The chat manager: what the HTTP layer calls.  Checks input, stores, and tells open sockets.

Who may call what (members read and post, outsiders never get here) is the server's policy;
this class only knows authors: a message is edited by its author alone, and deleted by its
author or a moderator (the project's owner or an admin), as the caller says.
"""

from __future__ import annotations

from typing import Any

from salvus_local.store.db import Store
from salvus_local.store.errors import BadRequest, Forbidden

from .hub import Hub
from .limits import PostLimit, check_mentions
from .messages import MAX_ID, Messages, check_body, public
from .people import YOU, People, Person
from .unread import ReadMarkers

__all__ = ["Chat", "Person"]


class Chat:
    """Messages, mentions, read markers and the socket hub of one server."""

    def __init__(self, store: Store, accounts: Any = None, hub: Hub | None = None,
                 limit: PostLimit | None = None) -> None:
        self.store = store
        self.limit = limit or PostLimit()  # posts and edits per person (notification spam guard)
        self.messages = Messages(store)
        self.reads = ReadMarkers(store)
        self.people = People(store, accounts)
        self.hub = hub or Hub()

    def person(self, user: dict[str, Any] | None) -> Person:
        """The chat participant for a users row (the single user is "you")."""
        if self.people.accounts is None or not user:
            return YOU
        return Person(int(user["id"]), user["name"], user.get("display_name") or user["name"])

    # -- reading -----------------------------------------------------------------------------
    def shape(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows → API messages with author display names and mentioned names."""
        mentions = self.messages.mentions_of([r["id"] for r in rows])
        names = {p.id: p.name for r in rows[:1] for p in self.people.members(r["project_id"])}
        display = self.people.display_names({r["author"] for r in rows})
        return [public(r, [names[u] for u in mentions[r["id"]] if u in names], display) for r in rows]

    def page(self, project_id: str, path: str, me: Person, before: int | None = None,
             limit: int = 50) -> dict[str, Any]:
        """``{messages (oldest first), more, read_up_to}`` of one chat."""
        rows, more = self.messages.page(project_id, path, before, limit)
        return {"messages": self.shape(rows), "more": more,
                "read_up_to": self.reads.marker(me.id, project_id, path)}

    def members(self, project_id: str, me: Person) -> dict[str, Any]:
        """``{me, members}`` for @mention completion."""
        return {"me": me.public(), "members": [p.public() for p in self.people.members(project_id)]}

    def unread(self, me: Person, project_id: str) -> dict[str, Any]:
        """``{project_id, chats: [{path, count, mentions}], total}`` of one project for one person."""
        chats = [{k: c[k] for k in ("path", "count", "mentions")} for c in self.reads.counts(me.id, project_id)]
        return {"project_id": project_id, "chats": chats, "total": sum(c["count"] for c in chats)}

    def notifications(self, me: Person) -> dict[str, Any]:
        """Unread counts per project and chat, and the latest mentions, of the projects this person is in."""
        allowed = self.people.projects_of(me)
        counts = [c for c in self.reads.counts(me.id) if allowed is None or c["project_id"] in allowed]
        rows = [r for r in self.reads.mentions(me.id) if allowed is None or r["project_id"] in allowed]
        mentions = [{**m, "unread": bool(r["unread"])} for r, m in zip(rows, self._shape_mixed(rows), strict=True)]
        return {"unread": counts, "total": sum(c["count"] for c in counts),
                "mentions": mentions, "unread_mentions": sum(1 for m in mentions if m["unread"])}

    def _shape_mixed(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        by_project: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            by_project.setdefault(r["project_id"], []).append(r)
        shaped = {m["id"]: m for group in by_project.values() for m in self.shape(group)}
        return [shaped[r["id"]] for r in rows]

    # -- writing -----------------------------------------------------------------------------
    def post(self, project_id: str, path: str, me: Person, body: object) -> dict[str, Any]:
        """Store a new message and tell every open socket of the project; mentioned people get a notice."""
        text = check_body(body)
        mentioned = self.people.resolve(project_id, text, me.id)
        check_mentions([p.name for p in mentioned])
        self.limit.take(me.id)  # last: a refused message costs no token
        message_id = self.messages.insert(project_id, path, me.id, me.name, text, [p.id for p in mentioned])
        message = self.shape([self.messages.get(project_id, message_id)])[0]
        self.hub.project(project_id, {"type": "message", "message": message})
        self._notify(message, [p.id for p in mentioned])
        self._unread_changed(project_id)
        return message

    def edit(self, project_id: str, message_id: int, me: Person, body: object) -> dict[str, Any]:
        """Replace a message's text (its author only)."""
        text = check_body(body)
        row = self.messages.get(project_id, message_id)
        if row["author_id"] != me.id:
            raise Forbidden("Only its author may edit a message")
        mentioned = self.people.resolve(project_id, text, me.id)
        check_mentions([p.name for p in mentioned])
        self.limit.take(me.id)  # an edit can mention people again, so it counts like a post
        new = self.messages.update(row, me.id, text, [p.id for p in mentioned])
        message = self.shape([self.messages.get(project_id, message_id)])[0]
        self.hub.project(project_id, {"type": "edited", "message": message})
        self._notify(message, new)
        self._unread_changed(project_id)
        return message

    def delete(self, project_id: str, message_id: int, me: Person, moderator: bool = False) -> None:
        """Delete a message: its author, or a moderator (the project's owner, an admin)."""
        row = self.messages.get(project_id, message_id)
        if row["author_id"] != me.id and not moderator:
            raise Forbidden("Only its author (or the project's owner) may delete a message")
        self.messages.remove(row)
        self.hub.project(project_id, {"type": "deleted", "id": message_id, "path": row["path"] or None})
        self._unread_changed(project_id)

    def moved(self, project_id: str, old: str, new: str) -> None:
        """A file or folder was renamed/moved (Contents API): its chats follow it; open sockets re-read their counts."""
        if old and new and old != new and self.messages.move(project_id, old, new):
            self.hub.project(project_id, {"type": "moved", "from": old, "to": new})
            self._unread_changed(project_id)

    def read(self, project_id: str, path: str, me: Person, up_to: object = None) -> dict[str, Any]:
        """Mark a chat read up to a message id (its latest when absent); answer the project's unread counts."""
        if up_to is not None and (isinstance(up_to, bool) or not isinstance(up_to, int) or not 0 <= up_to < MAX_ID):
            raise BadRequest("up_to must be a message id (a whole number ≥ 0), or absent for the latest message")
        marker = self.reads.mark(me.id, project_id, path, up_to)
        unread = self.unread(me, project_id)
        self.hub.person(me.id, {"type": "unread", **unread}, project_id)  # the person's other tabs
        return {"path": path or None, "read_up_to": marker, **{k: unread[k] for k in ("chats", "total")}}

    # -- telling sockets ---------------------------------------------------------------------
    def _notify(self, message: dict[str, Any], user_ids: list[int]) -> None:
        for uid in user_ids:
            self.hub.person(uid, {"type": "mention", "message": message})

    def _unread_changed(self, project_id: str) -> None:
        """Each person with a socket on the project gets their own counts."""
        for uid in self.hub.readers(project_id):
            me = Person(uid, "", "")
            self.hub.person(uid, {"type": "unread", **self.unread(me, project_id)}, project_id)
