"""wc: model-based LLM agents that learn world models by writing code (WorldCoder).

    import wc
    wc.check_program("minigrid-doorkey", source)      # a program against the contract
    from wc import api                                # learn, resume, curricula, the store

See `wc.api` for the Python API and `wc.contract` for what a world-model program is.
"""
from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "check_program"]


def __getattr__(name: str):
    if name == "check_program":  # imported on first use: `import wc` stays light
        from wc.check import check_program

        return check_program
    raise AttributeError(f"module 'wc' has no attribute {name!r}")
