"""salvus_local: a local notebook server for SageMath (BSD-3-Clause)."""

from __future__ import annotations

import sys

__version__ = "0.1.0"

# jsonschema (imported by nbformat) builds an IRI grammar at import when rfc3987-syntax is installed
# (jupyter_server's jsonschema[format-nongpl] brings it): 1.2 s of CPU in every web worker, CLI command and
# grader that reads a notebook.  Nothing here checks "iri" formats, so jsonschema is told the module is absent.
sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
