"""Execution semantics of a forked session, through the real compute server's socket."""

from __future__ import annotations

import time

import pytest

from .conftest import of_type, text_of


@pytest.fixture(params=["python", "sage"])
def kc(request, forker_factory):
    """A fresh session of each kind."""
    client = forker_factory(request.param).start()
    yield client
    client.kill()


def test_result_and_execution_count(kc):
    reply, iopub = kc.execute("40 + 2")
    assert reply["content"]["status"] == "ok"
    assert reply["content"]["execution_count"] == 1
    assert of_type(iopub, "execute_input")[0]["content"]["code"] == "40 + 2"
    assert of_type(iopub, "execute_result")[0]["content"]["data"]["text/plain"] == "42"
    assert kc.execute("1")[0]["content"]["execution_count"] == 2


def test_streaming_arrives_while_the_cell_runs(kc):
    code = "import time\nfor i in range(3):\n    print('line', i, flush=True)\n    time.sleep(int(1)/int(4))"
    msg = kc.send("execute_request", {"code": code})
    arrivals = []
    while True:
        m = kc.recv()
        if m["header"]["msg_type"] == "stream":
            arrivals.append((time.monotonic(), m["content"]["text"]))
        if m["header"]["msg_type"] == "execute_reply" and m["parent_header"]["msg_id"] == msg["header"]["msg_id"]:
            done = time.monotonic()
            break
    assert "".join(t for _, t in arrivals) == "line 0\nline 1\nline 2\n"
    # The first line came while the cell was still sleeping, not with the reply.
    assert arrivals[0][0] < done - 0.3


def test_output_order_is_kept_across_streams_and_displays(kc):
    code = ("import sys\nfrom IPython.display import display, HTML\n"
            "print('a'); sys.stderr.write('b\\n'); display(HTML('<i>c</i>')); print('d')")
    _, iopub = kc.execute(code)
    seq = [(m["header"]["msg_type"], m["content"].get("text") or m["content"].get("data", {}).get("text/html"))
           for m in iopub if m["header"]["msg_type"] in ("stream", "display_data")]
    assert seq == [("stream", "a\n"), ("stream", "b\n"), ("display_data", "<i>c</i>"), ("stream", "d\n")]


def test_c_level_output_is_captured_in_order(kc):
    _, iopub = kc.execute("import os\nprint('before', flush=True)\nos.system('echo from-shell')\nprint('after')")
    assert text_of(iopub) == "before\nfrom-shell\nafter\n"


def test_interleaved_c_and_python_output_keeps_order(kc):
    code = "import os\nfor i in range(int(15)):\n    print('py', i)\n    os.system(f'echo sh {i}')"
    _, iopub = kc.execute(code)
    assert text_of(iopub) == "".join(f"py {i}\nsh {i}\n" for i in range(15))


def test_error_message_and_reply(kc):
    reply, iopub = kc.execute("undefined_name_xyz")
    err = of_type(iopub, "error")[0]["content"]
    assert err["ename"] == "NameError" and "undefined_name_xyz" in err["evalue"]
    assert any("undefined_name_xyz" in line for line in err["traceback"])
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "NameError"


def test_queued_cells_after_an_error_are_aborted(kc):
    first = kc.send("execute_request", {"code": "import time; time.sleep(int(1)/int(5)); 1/0"})
    second = kc.send("execute_request", {"code": "print('must not run')"})
    r1, _ = kc.collect(first)
    r2, iopub2 = kc.collect(second)
    assert r1["content"]["status"] == "error"
    assert r2["content"]["status"] == "aborted" and not text_of(iopub2)


def test_rich_reprs(kc):
    code = ("class R:\n"
            "    def _repr_html_(self): return '<b>html</b>'\n"
            "    def _repr_latex_(self): return '$x^2$'\n"
            "    def _repr_svg_(self): return '<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>'\n"
            "    def __repr__(self): return 'R()'\n"
            "R()")
    data = of_type(kc.execute(code)[1], "execute_result")[0]["content"]["data"]
    assert data["text/plain"] == "R()" and data["text/html"] == "<b>html</b>"
    assert data["text/latex"] == "$x^2$" and data["image/svg+xml"].startswith("<svg")


def test_matplotlib_figure_inline_as_png(kc):
    _, iopub = kc.execute("import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()")
    pngs = [m for m in of_type(iopub, "display_data") if "image/png" in m["content"]["data"]]
    assert pngs and pngs[0]["content"]["data"]["image/png"].startswith("iVBOR")  # base64 PNG


def test_display_update_by_id(kc):
    _, iopub = kc.execute("h = display('one', display_id=True)\nh.update('two')")
    assert of_type(iopub, "display_data")[0]["content"]["transient"]["display_id"]
    upd = of_type(iopub, "update_display_data")[0]["content"]
    assert upd["data"]["text/plain"] == "'two'"


def test_complete_inspect_is_complete_kernel_info(kc):
    kc.execute("my_variable_abc = 1\nimport os")
    reply, _ = kc.collect(kc.send("complete_request", {"code": "my_varia", "cursor_pos": 8}))
    assert "my_variable_abc" in reply["content"]["matches"] and reply["content"]["cursor_start"] == 0
    code = "import os\nos.pa"
    reply, _ = kc.collect(kc.send("complete_request", {"code": code, "cursor_pos": len(code)}))
    c = reply["content"]
    completed = {code[:c["cursor_start"]] + m + code[c["cursor_end"]:] for m in c["matches"]}
    assert "import os\nos.path" in completed
    reply, _ = kc.collect(kc.send("inspect_request", {"code": "len", "cursor_pos": 3, "detail_level": 0}))
    assert reply["content"]["found"] and "Return the number of items" in reply["content"]["data"]["text/plain"]
    reply, _ = kc.collect(kc.send("is_complete_request", {"code": "for i in range(3):"}))
    assert reply["content"]["status"] == "incomplete"
    reply, _ = kc.collect(kc.send("is_complete_request", {"code": "x = 1"}))
    assert reply["content"]["status"] == "complete"
    reply, _ = kc.collect(kc.send("kernel_info_request", {}))
    info = reply["content"]
    assert info["protocol_version"].startswith("5.") and info["language_info"]["name"] in ("python", "sage")


def test_pager_payload_for_question_mark(kc):
    reply, _ = kc.execute("len?")
    pages = [p for p in reply["content"]["payload"] if p["source"] == "page"]
    assert pages and "Return the number of items" in pages[0]["data"]["text/plain"]


def test_input_request_round_trip(kc):
    prompts = []
    reply, iopub = kc.execute("name = input('Your name? ')\nprint('hello', name)",
                              on_input=lambda c: prompts.append(c["prompt"]) or "Ada")
    assert prompts == ["Your name? "]
    assert text_of(iopub) == "hello Ada\n" and reply["content"]["status"] == "ok"


def test_input_without_stdin_is_a_clear_error(kc):
    reply, iopub = kc.execute("input()")
    assert reply["content"]["status"] == "error"
    assert "StdinNotImplementedError" in reply["content"]["ename"]


def test_output_cap_truncates_with_a_notice(forker_factory):
    kc = forker_factory("python").start(limits={"output_limit": 10_000})
    try:
        reply, iopub = kc.execute("for i in range(100000): print(i)")
        out = text_of(iopub)
        assert len(out) < 20_000
        assert "output truncated" in text_of(iopub, "stderr")
        assert reply["content"]["status"] == "ok"
        assert kc.result("'still alive'") == "'still alive'"
    finally:
        kc.kill()


def test_sessions_are_isolated_from_each_other(python_forker):
    a, b = python_forker.start(), python_forker.start()
    try:
        a.execute("secret = 41")
        reply, _ = b.execute("secret")
        assert reply["content"]["ename"] == "NameError"
        assert a.result("secret + 1") == "42"
        assert a.pid != b.pid
    finally:
        a.kill(), b.kill()
