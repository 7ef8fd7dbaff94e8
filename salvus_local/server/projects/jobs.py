"""Background jobs with progress (project clones), polled by the client."""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from typing import Any

from salvus_local.store.errors import NotFound, StoreError

KEEP_SECONDS = 3600  # finished jobs stay pollable this long


class Jobs:
    """Run functions in threads and expose their progress as JSON models."""

    def __init__(self) -> None:
        self._jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def start(self, kind: str, fn: Callable[[Callable[[str, float | None, str], None]], dict[str, Any]]) -> dict[str, Any]:
        """Start ``fn(progress)`` in a thread; its return value becomes the job's ``result``."""
        job_id = secrets.token_hex(8)
        job = {"id": job_id, "kind": kind, "state": "running", "stage": "starting", "fraction": None,
               "message": "", "result": None, "error": None, "started": time.time(), "finished": None}
        with self._lock:
            self._prune()
            self._jobs[job_id] = job

        def progress(stage: str, fraction: float | None, message: str) -> None:
            with self._lock:
                job.update(stage=stage, fraction=fraction, message=message.strip())

        def run() -> None:
            try:
                result = fn(progress)
                update = {"state": "done", "result": result, "fraction": 1.0, "stage": "done"}
            except StoreError as exc:
                update = {"state": "error", "error": {"message": exc.message, "status": exc.status}}
            except Exception as exc:  # reported to the client; the thread must not die silently
                update = {"state": "error", "error": {"message": f"{type(exc).__name__}: {exc}", "status": 500}}
            with self._lock:
                job.update(update, finished=time.time())

        threading.Thread(target=run, name=f"salvus-job-{job_id}", daemon=True).start()
        return self.get(job_id)

    def get(self, job_id: str) -> dict[str, Any]:
        """Return a job's model (a copy)."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None:
                raise NotFound(f"No such job: {job_id}")
            return dict(job)

    def _prune(self) -> None:
        limit = time.time() - KEEP_SECONDS
        for job_id in [j for j, job in self._jobs.items() if job["finished"] and job["finished"] < limit]:
            del self._jobs[job_id]
