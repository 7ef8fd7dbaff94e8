"""Sage worksheet modes in the real forked Sage kernel: %gp, %maxima, %python, %latex, %html, %md,
%sh, %gap/%singular/%R (or a clear message), and %default_mode. Outputs are compared with what
Sage's own interfaces print for the same input in a separate Sage process."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys

import pytest

from .conftest import of_type, text_of

# What Sage's interfaces print, computed in a fresh process (the reference, not our code).
REFERENCE = """
import json, sys
from sage.interfaces.gp import gp
from sage.interfaces.maxima import maxima
cases = json.loads(sys.argv[1])
print(json.dumps([{"gp": gp, "maxima": maxima}[name].eval(code) for name, code in cases]))
"""
CASES = [("gp", "factor(2^10-1)"), ("gp", "x = 7; x^2 + 1"), ("maxima", "integrate(x^2, x);"),
         ("maxima", "factor(x^4-1);")]


@pytest.fixture(scope="module")
def sage(sage_forker):
    kc = sage_forker.start()
    yield kc
    kc.kill()


def ok(reply: dict) -> None:
    assert reply["content"]["status"] == "ok", reply["content"]


def test_gp_and_maxima_print_what_sages_interfaces_print(sage) -> None:
    done = subprocess.run([sys.executable, "-c", REFERENCE, json.dumps(CASES)], capture_output=True, text=True,
                          timeout=300, check=True)
    expected = json.loads(done.stdout.strip().splitlines()[-1])
    for (name, code), want in zip(CASES, expected):
        reply, iopub = sage.execute(f"%{name}\n{code}")
        ok(reply)
        assert text_of(iopub) == want + "\n", (name, code)
    assert "x^3/3" in expected[2]


def test_default_mode_then_back_to_sage(sage) -> None:
    ok(sage.execute("%default_mode gp")[0])
    reply, iopub = sage.execute("2^100 + 1")  # gp's integers, no Sage preparser involved
    ok(reply)
    assert text_of(iopub).strip() == str(2**100 + 1)
    reply, iopub = sage.execute("%sage\n2^10")  # a %sage line runs one Sage cell
    assert of_type(iopub, "execute_result")[0]["content"]["data"]["text/plain"] == "1024"
    ok(sage.execute("%default_mode sage")[0])
    assert sage.result("2^10") == "1024"
    reply, iopub = sage.execute("%default_mode cobol")
    assert reply["content"]["status"] == "error" and "unknown mode" in reply["content"]["evalue"]


def test_python_mode_skips_the_preparser(sage) -> None:
    reply, iopub = sage.execute("%python\nprint(2^10, type(1/3).__name__)")
    ok(reply)
    assert text_of(iopub) == "8 float\n"
    assert sage.result("type(2^10)") == "<class 'sage.rings.integer.Integer'>"  # next cell is Sage again


def test_html_md_latex_render_as_rich_output(sage) -> None:
    _, iopub = sage.execute("%html\n<b>bold</b> text")
    assert of_type(iopub, "display_data")[0]["content"]["data"]["text/html"] == "<b>bold</b> text"
    _, iopub = sage.execute("%md\n# Title\nsome *markdown*")
    assert of_type(iopub, "display_data")[0]["content"]["data"]["text/markdown"] == "# Title\nsome *markdown*"
    _, iopub = sage.execute("%latex\n\\int_0^1 x^2\\,dx = \\frac{1}{3}")
    assert of_type(iopub, "display_data")[0]["content"]["data"]["text/latex"] == "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$"
    _, iopub = sage.execute("%latex\nThe area is $\\frac{1}{3}$.")
    assert of_type(iopub, "display_data")[0]["content"]["data"]["text/markdown"] == "The area is $\\frac{1}{3}$."


def test_sh_runs_in_the_working_folder(sage, tmp_path) -> None:
    reply, iopub = sage.execute("%sh\necho héllo; echo oops >&2; pwd; exit 3")
    ok(reply)
    out = text_of(iopub)
    assert out.startswith("héllo\n") and "oops" in text_of(iopub, "stderr")
    assert "[exit status 3]" in text_of(iopub, "stderr")


@pytest.mark.parametrize("mode,module,code", [("gap", "sage.interfaces.gap", "1+1;"),
                                              ("singular", "sage.interfaces.singular", "1+1;"),
                                              ("R", "sage.interfaces.r", "1+1")])
def test_optional_systems_run_or_say_how_to_install(sage, mode, module, code) -> None:
    reply, iopub = sage.execute(f"%{mode}\n{code}")
    ok(reply)
    err = text_of(iopub, "stderr")
    if err:
        assert err.startswith(f"%{mode}: ") and ("pip install" in err or "could not start" in err), err
    else:
        assert importlib.util.find_spec(module) is not None
        assert text_of(iopub).strip().endswith("2")


def test_gp_and_maxima_through_the_real_server(server) -> None:
    """Through salvus-local itself: sessions run in a fresh home (and as another uid when root)."""
    kernel_id = server.start_kernel("sagemath")
    kc = server.kernel_client(kernel_id)
    try:
        assert kc.execute("%gp\nfactor(2^10-1)").text.split() == ["[", "3", "1]", "[11", "1]", "[31", "1]"]
        assert kc.execute("%maxima\nintegrate(x^2, x);").text.strip() == "x^3/3"
    finally:
        kc.close()
        server.delete(f"/api/kernels/{kernel_id}")
