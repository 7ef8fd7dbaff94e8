"""Kernel specs: what each forker offers, in jupyter_server's kernelspec shape."""

from __future__ import annotations

import logging
import sys
from typing import Any

from salvus_local.config import Config

from ..errors import APIError
from .forker_client import ForkerClient, ForkerError

log = logging.getLogger("salvus_local.server.kernels")

SPEC_NAMES = {"sage": "sagemath", "python": "python3"}  # used when a forker does not name itself


class KernelSpecs:
    """Kernel spec name → (kind, kernel info), from the forkers' hello/info."""

    def __init__(self, config: Config, forkers: dict[str, ForkerClient]) -> None:
        self.config = config
        self.forkers = forkers
        # The launcher passes what each forker said at start; otherwise ask once, lazily.
        self._infos: dict[str, dict[str, Any]] = dict(config.extra.get("kernel_specs", {}))

    def infos(self) -> dict[str, dict[str, Any]]:
        """Return kind → kernel info for every reachable forker."""
        for kind, forker in self.forkers.items():
            if kind not in self._infos:
                try:
                    self._infos[kind] = forker.info(timeout=10).get("kernel") or {}
                except ForkerError as exc:
                    log.warning("no kernel spec for %s: %s", kind, exc)
        return {kind: info for kind, info in self._infos.items() if kind in self.forkers}

    def by_name(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """Return spec name → (kind, kernel info)."""
        return {info.get("name") or SPEC_NAMES.get(kind, kind): (kind, info) for kind, info in self.infos().items()}

    def default_name(self) -> str:
        """Return the default kernel's spec name (sage when available, else python)."""
        names = self.by_name()
        for kind in (self.config.kernel, "python", *self.forkers):
            for name, (k, _info) in names.items():
                if k == kind:
                    return name
        return SPEC_NAMES.get(self.config.kernel, self.config.kernel)

    def resolve(self, name: str | None) -> tuple[str, str]:
        """Return (kind, spec name) for a spec name or kind alias; 404 when there is none."""
        names = self.by_name()
        name = name or self.default_name()
        if name in names:
            return names[name][0], name
        for spec_name, (kind, _info) in names.items():
            if kind == name:
                return kind, spec_name
        raise APIError(404, f"No such kernel named {name}: choose one of {', '.join(sorted(names)) or 'none'}")

    def model(self, name: str) -> dict[str, Any]:
        """Return one kernelspec in jupyter_server's shape."""
        kind, info = self.by_name()[name]
        return {
            "name": name,
            "spec": {
                "argv": [sys.executable, "-m", "salvus_local.kernel", "--kind", kind],
                "display_name": info.get("display_name") or name,
                "language": info.get("language") or kind,
                "interrupt_mode": "signal",
                "env": {},
                "metadata": {"salvus_local": {"kind": kind}},
            },
            "resources": {},
        }

    def models(self) -> dict[str, Any]:
        """Return ``GET /api/kernelspecs``."""
        return {"default": self.default_name(), "kernelspecs": {n: self.model(n) for n in self.by_name()}}
