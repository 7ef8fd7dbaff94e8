"""salvus_local: a local notebook server for SageMath (BSD-3-Clause)."""

from __future__ import annotations

__version__ = "0.1.0"
