"""The forking compute server: preload Sage once, fork an isolated child per session.

Runs as its own exec'd process (``python -m salvus_local.kernel``) and imports no Flask,
SQLite or GUI code: a fork must never copy a thread, a database handle or a window.
"""
