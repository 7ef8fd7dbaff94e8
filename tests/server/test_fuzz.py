"""Property-based API fuzzing (schemathesis over /api/openapi.json) against a live server: issue 7, item 5.

Every operation of the served OpenAPI document (the /p/{project_id}/ copies included) gets
schema-conforming AND schema-violating requests.  No answer may be a 5xx, none may hang (each
request has a timeout), and the server must still answer afterwards.  The number of examples per
operation is small so the whole run stays within a couple of minutes on 2 cores; raise
SALVUS_FUZZ_EXAMPLES for a longer hunt.
"""

from __future__ import annotations

import os
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from schemathesis.generation import GenerationMode  # noqa: E402

EXAMPLES = int(os.environ.get("SALVUS_FUZZ_EXAMPLES", "6"))
REQUEST_TIMEOUT = 30


def _unsafe(case: Any) -> bool:
    """Requests that would reach outside the test's data dir: opening or creating a project at any
    folder of this machine, or cloning from anywhere (both are the server owner's powers, by design)."""
    body = case.body if isinstance(case.body, dict) else {}
    return case.operation.path == "/api/projects" and case.method.upper() == "POST" and any(
        body.get(k) is not None for k in ("open", "path", "clone"))


def test_no_route_answers_5xx_or_hangs(start_server) -> None:
    server = start_server("--kernels", "python", "--kernel", "python", "--snapshot-interval", "120")
    schema = schemathesis.openapi.from_dict(server.get("/api/openapi.json").json())
    headers = {"Authorization": f"token {server.token}"}
    failures: list[str] = []
    statuses: dict[int, int] = {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 60  # every route, both base URLs
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            seen: list[str] = []

            @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                      phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
            @given(case=operation.as_strategy(generation_mode=mode))
            def run(case: Any) -> None:
                if _unsafe(case):
                    return
                try:
                    r = case.call(base_url=server.base_url, headers=headers, timeout=REQUEST_TIMEOUT)
                except Exception as exc:  # a hang (timeout) or a dropped connection
                    seen.append(f"{case.method} {case.formatted_path}: {type(exc).__name__}: {exc}"[:300])
                    return
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code >= 500:
                    seen.append(f"{case.method} {case.formatted_path} {case.query or ''} "
                                f"{str(case.body)[:120]} -> {r.status_code} {r.text[:120]}")

            run()
            failures += seen[:3]
    print("statuses:", sorted(statuses.items()))
    assert server.get("/api/status").status_code == 200, "the server stopped answering"
    assert sum(n for code, n in statuses.items() if code < 300) > 50, statuses  # really reached the handlers
    for kernel in server.get("/api/kernels").json():
        server.delete(f"/api/kernels/{kernel['id']}")
    for term in server.get("/api/terminals").json():
        server.delete(f"/api/terminals/{term['name']}")
    assert not failures, "\n".join(failures)
