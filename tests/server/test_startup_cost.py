"""What every server start pays for: no import-time work the server never uses."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_reading_notebooks_does_not_build_the_iri_grammar() -> None:
    # jsonschema (through nbformat) compiled an IRI grammar at import when rfc3987-syntax was installed:
    # 1.2 s of CPU in every web worker before its first answer (11.6 s on a loaded 2-core machine).
    code = ("import sys, salvus_local.server.contents.models, nbformat, jsonschema\n"
            "nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('1')])\n"
            "nbformat.validate(nb)\n"
            "print(sys.modules.get('rfc3987_syntax', 'absent'), 'lark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() in (["None", "False"], ["absent", "False"])
