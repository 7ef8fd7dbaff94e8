"""Kernels service: REST ``/api/kernels``, the channels websocket, and the KernelManager."""

from __future__ import annotations

from flask import Flask

from .manager import KernelManager, KernelUnavailable

__all__ = ["KernelManager", "KernelUnavailable", "init_app"]


def init_app(app: Flask) -> None:
    """Create the KernelManager and register the kernel routes."""
    from .handlers import bp

    app.extensions["salvus"].kernels = KernelManager(app.extensions["salvus"].config)
    app.register_blueprint(bp)
