"""Chat per project and per file: messages (markdown), @mentions, read markers, search (no Flask).

:class:`Chat` is the manager the HTTP layer (``server/chat``) calls; :class:`Hub` fans events out
to the open chat websockets.  Messages live in SQLite (migration ``0010_chat``); their bodies are
indexed in ``chat_messages_fts`` so the top bar's search finds them beside past computations.
"""

from __future__ import annotations

from .hub import Hub
from .manager import Chat, Person
from .messages import MAX_BODY

__all__ = ["MAX_BODY", "Chat", "Hub", "Person"]
