"""One exception hierarchy for everything wc raises on purpose.

Each error carries a message a user can act on; the CLI prints it as one line.
"""
from __future__ import annotations


class WcError(Exception):
    """Base of every error wc raises deliberately."""


class ConfigError(WcError):
    """Settings are missing or contradictory (e.g. no LLM configured)."""


class UnknownEnvironment(WcError):
    """An environment name that no adapter can make."""


class StoreError(WcError):
    """The knowledge store cannot be opened, migrated or written."""


class NotFound(WcError):
    """A run, program or other stored record does not exist."""


class LLMError(WcError):
    """The LLM backend failed after its retries."""


class LLMFatalError(LLMError):
    """Retrying cannot help and later requests will fail too (bad key, unknown model)."""


class SandboxError(WcError):
    """The sandbox itself failed (not a program inside it)."""
