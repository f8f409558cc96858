"""wc: model-based LLM agents that learn world models by writing code (WorldCoder)."""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
