"""``python -m salvus_local``: the same entry point as the ``salvus-local`` command."""

from __future__ import annotations

from salvus_local.cli import main

if __name__ == "__main__":
    main(prog_name="salvus-local")
