"""Who is in a project's chat, and whom a message @mentions.

Members are the project's owner and collaborators (accounts); single-user mode has one person,
"you".  A mention is ``@name`` (a username's characters, not preceded by a word character, so
``a@b.org`` mentions nobody), matched case-insensitively against the members; anything else
stays plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from salvus_local.store.db import Store

SINGLE_ID = 0
MENTION = re.compile(r"(?<![\w@/.])@([A-Za-z][A-Za-z0-9._-]{0,31})")


@dataclass(frozen=True)
class Person:
    """A chat participant: ``id`` (users.id; 0 = the single user), ``name`` (unique), ``display_name``."""

    id: int
    name: str
    display_name: str

    def public(self) -> dict[str, str]:
        """``{name, display_name}`` (ids stay on the server)."""
        return {"name": self.name, "display_name": self.display_name}


YOU = Person(SINGLE_ID, "you", "You")


def mentioned_names(body: str) -> list[str]:
    """Every ``@name`` written in a message (lower case, trailing dots dropped, in order, unique)."""
    names: list[str] = []
    for m in MENTION.finditer(body):
        name = m.group(1).rstrip("._-").lower()
        if name and name not in names:
            names.append(name)
    return names


class People:
    """Members of projects, read from the accounts tables (or just "you" in single-user mode)."""

    def __init__(self, store: Store, accounts: Any = None) -> None:
        self.store = store
        self.accounts = accounts  # salvus_local.accounts.Accounts in multi-user mode, else None

    def members(self, project_id: str) -> list[Person]:
        """The owner, then the collaborators by name (people removed from the server are left out)."""
        if self.accounts is None:
            return [YOU]
        owner = self.accounts.members.owner_id(project_id)
        rows = self.store.query(
            "select u.id, u.name, u.display_name, 0 as rank from users u where u.id = ? and u.deleted is null "
            "union select u.id, u.name, u.display_name, 1 from project_members m join users u on u.id = m.user_id "
            "where m.project_id = ? and u.deleted is null order by rank, name", (owner if owner is not None else -1,
                                                                                 project_id))
        seen: set[int] = set()
        out = []
        for r in rows:
            if r["id"] not in seen:
                seen.add(r["id"])
                out.append(Person(r["id"], r["name"], r["display_name"] or r["name"]))
        return out

    def resolve(self, project_id: str, body: str, author_id: int) -> list[Person]:
        """The members a message mentions (never its author)."""
        names = mentioned_names(body)
        if not names:
            return []
        by_name = {p.name.lower(): p for p in self.members(project_id)}
        return [by_name[n] for n in names if n in by_name and by_name[n].id != author_id]

    def display_names(self, names: set[str]) -> dict[str, str]:
        """name → current display name, for authors of listed messages."""
        if self.accounts is None or not names:
            return {YOU.name: YOU.display_name}
        marks = ",".join("?" * len(names))
        rows = self.store.query(f"select name, display_name from users where name in ({marks}) and deleted is null",
                                tuple(names))
        return {r["name"]: r["display_name"] or r["name"] for r in rows}

    def projects_of(self, person: Person) -> set[str] | None:
        """Projects whose chats notify this person (owned or shared), None = every project (single-user)."""
        if self.accounts is None:
            return None
        # Admins can open every project, but are told only about those they own or collaborate in.
        first = self.accounts.first_admin_id()
        rows = self.store.query(
            "select id from projects where deleted is null and coalesce(owner_id, ?) = ? "
            "union select project_id from project_members where user_id = ?", (first, person.id, person.id))
        return {r["id"] for r in rows}
