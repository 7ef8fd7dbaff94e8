"""A Sage session behaves like Sage's own REPL, shows plots as SVG and runs @interact."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from .conftest import of_type, text_of

SAGE_INPUTS = [
    "2^10", "1/3", "f(x) = x^2; f(3)", "factor(2^64 - 1)", "matrix(QQ, [[1, 2], [3, 4]])^-1",
    "integrate(sin(x)^2, x)", "sqrt(8)", "N(pi, digits=30)", "diff(x^3 * cos(x), x)",
    "y = var('y')\nsolve(y^2 - 2 == 0, y)", "expand((x + 1)^5)", "QQ", "[p for p in primes(30)]",
]

# Sage's own REPL, as Sage's doctests drive it: its test shell, preparser and display backend.
REFERENCE = """
import contextlib, io, json, sys
from sage.repl.interpreter import get_test_shell
shell = get_test_shell()
shell.run_cell('from sage.all__sagemath_symbolics import *; from sage.all__sagemath_plot import *')
out = []
for code in json.loads(sys.argv[1]):
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        shell.run_cell(code)
    out.append(buf.getvalue().rstrip('\\n'))
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def sage(sage_forker):
    kc = sage_forker.start()
    yield kc
    kc.kill()


def test_outputs_match_sages_own_repl(sage):
    proc = subprocess.run([sys.executable, "-c", REFERENCE, json.dumps(SAGE_INPUTS)],
                          capture_output=True, text=True, timeout=120, check=True)
    expected = json.loads(proc.stdout.strip().splitlines()[-1])
    got = []
    for code in SAGE_INPUTS:
        _, iopub = sage.execute(code)
        results = of_type(iopub, "execute_result")
        got.append(results[0]["content"]["data"]["text/plain"] if results else text_of(iopub).rstrip("\n"))
    assert got == expected


def test_preparser_semantics(sage):
    assert sage.result("2^10") == "1024"
    assert sage.result("type(1/3)") == "<class 'sage.rings.rational.Rational'>"
    assert sage.result("f(x) = x^2; f(3)") == "9"


def test_plot_is_inline_svg(sage):
    _, iopub = sage.execute("plot(sin(x), (x, 0, 6))")
    data = of_type(iopub, "execute_result")[0]["content"]["data"]
    assert data["image/svg+xml"].lstrip().startswith("<?xml") and "<svg" in data["image/svg+xml"]


def test_show_publishes_html_and_latex(sage):
    _, iopub = sage.execute("show(x^2 + 1/2)")
    data = of_type(iopub, "display_data")[0]["content"]["data"]
    assert "x^{2}" in data["text/latex"] and "text/html" in data


def test_question_mark_docs_and_double_question_mark_source(sage):
    reply, _ = sage.execute("factor?")
    doc = reply["content"]["payload"][0]["data"]["text/plain"]
    assert "factorization" in doc.lower()
    reply, _ = sage.execute("factor??")
    src = re.sub(r"\x1b\[[0-9;]*m", "", reply["content"]["payload"][0]["data"]["text/plain"])
    assert "def factor(" in src


def test_completion_of_sage_globals(sage):
    reply, _ = sage.collect(sage.send("complete_request", {"code": "facto", "cursor_pos": 5}))
    assert "factor" in reply["content"]["matches"]
    reply, _ = sage.collect(sage.send("complete_request", {"code": "QQ.ch", "cursor_pos": 5}))
    assert any(m.endswith("characteristic") for m in reply["content"]["matches"])


def test_kernel_info_says_sage(sage):
    reply, _ = sage.collect(sage.send("kernel_info_request", {}))
    assert reply["content"]["language_info"]["name"] == "sage"


def _widget_states(iopub: list[dict]) -> dict[str, dict]:
    return {m["content"]["comm_id"]: m["content"]["data"]["state"]
            for m in of_type(iopub, "comm_open") if m["content"]["target_name"] == "jupyter.widget"}


def test_interact_runs_through_widget_comms(sage):
    code = "@interact\ndef square(n=slider(1, 10, 1, default=5)):\n    print('square', n * n)"
    _, iopub = sage.execute(code)
    states = _widget_states(iopub)
    slider_id = next(cid for cid, st in states.items() if st.get("_model_name") == "IntSliderModel")
    assert states[slider_id]["value"] == 5
    assert "application/vnd.jupyter.widget-view+json" in of_type(iopub, "display_data")[0]["content"]["data"]
    assert "square 25" in text_of(iopub)
    # Move the slider the way a browser does: a comm_msg with an update of the state.
    msg = sage.send("comm_msg", {"comm_id": slider_id,
                                 "data": {"method": "update", "state": {"value": 7}, "buffer_paths": []}})
    _, iopub = sage.collect(msg)
    assert "square 49" in text_of(iopub)


def test_ipywidgets_comm_info(sage):
    sage.execute("import ipywidgets; w = ipywidgets.IntSlider()")
    reply, _ = sage.collect(sage.send("comm_info_request", {"target_name": "jupyter.widget"}))
    assert reply["content"]["comms"]
