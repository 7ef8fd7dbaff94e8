"""Bulk course actions as background jobs: one step per student, a few at a time, each result listed.

Job model (``GET /api/courses/<cid>/jobs/<job>``)::

    {id, action, state: running|done|failed, done: n, total: n,
     results: [{username, status: ok|failed|skipped, message}]}

``failed`` means the job itself could not run (e.g. the student version could not be made); one
student's failure is a failed result and the others go on.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from salvus_local.store.errors import NotFound, StoreError

log = logging.getLogger("salvus_local.server")
KEEP_SECONDS = 6 * 3600  # finished jobs stay pollable this long


class CourseJobs:
    """Running and recent bulk actions of every course."""

    def __init__(self) -> None:
        self._jobs: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()

    def start(self, course_id: str, action: str, students: list[dict[str, Any]],
              step: Callable[[dict[str, Any]], tuple[str, str]], workers: int = 4,
              prepare: Callable[[], None] | None = None) -> dict[str, Any]:
        """Run ``step(student)`` for every student in a thread pool; return the job model at once."""
        job = {"id": secrets.token_hex(8), "course_id": course_id, "action": action, "state": "running", "done": 0,
               "total": len(students), "results": [], "message": "", "finished": None}
        with self._lock:
            self._prune()
            self._jobs[job["id"]] = job

        def one(student: dict[str, Any]) -> None:
            try:
                status, message = step(student)
            except StoreError as exc:
                status, message = "failed", exc.message
            except Exception as exc:  # listed, and logged for the admin; the other students go on
                log.exception("course %s: %s of %s failed", course_id, action, student["username"])
                status, message = "failed", f"{type(exc).__name__}: {exc}"
            with self._lock:
                job["results"].append({"username": student["username"], "status": status, "message": message})
                job["done"] += 1

        def run() -> None:
            state, message = "done", ""
            try:
                if prepare is not None:
                    prepare()
                with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix=f"course-{action}") as pool:
                    list(pool.map(one, students))
            except StoreError as exc:
                state, message = "failed", exc.message
            except Exception as exc:
                log.exception("course %s: %s failed", course_id, action)
                state, message = "failed", f"{type(exc).__name__}: {exc}"
            with self._lock:
                job.update(state=state, message=message, finished=time.time())

        threading.Thread(target=run, name=f"course-job-{job['id']}", daemon=True).start()
        return self.get(course_id, job["id"])

    def get(self, course_id: str, job_id: str) -> dict[str, Any]:
        """A job's model (a copy); 404 when unknown or of another course."""
        with self._lock:
            job = self._jobs.get(job_id)
            if job is None or job["course_id"] != course_id:
                raise NotFound(f"No such job: {job_id}")
            out = {k: v for k, v in job.items() if k not in ("course_id", "finished")}
            out["results"] = sorted((dict(r) for r in job["results"]), key=lambda r: r["username"])
            return out

    def _prune(self) -> None:
        limit = time.time() - KEEP_SECONDS
        for job_id in [j for j, job in self._jobs.items() if job["finished"] and job["finished"] < limit]:
            del self._jobs[job_id]
