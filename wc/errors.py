"""One exception tree for everything wc raises on purpose.

    WcError
    ├── InvalidInput          an argument that cannot be used (a program id that is not a number, …)
    │   └── DatasetError         an offline dataset that cannot be read or does not fit  .path, .line
    ├── ConfigError           settings missing or contradictory (no LLM configured, a bad WC_SANDBOX)
    ├── EnvError              an environment that cannot be made or played
    │   ├── UnknownEnvironment   no adapter fits the name, or an extra is missing     .name
    │   ├── GameError            an ALFWorld game that cannot be played               .path
    │   ├── LevelError           a Sokoban level file or level that cannot be played  .path
    │   └── InvalidAction        an action the environment does not have              .action
    ├── NotFound              a stored record that does not exist                     .kind, .id
    ├── StoreError            the store cannot be opened, migrated or written         .url (redacted)
    │   └── RunBusy              the run is finished, or a live process runs it       .run_id, .owner
    ├── LLMError              an LLM request failed after its retries
    │   ├── CallBudgetSpent      the run's call budget (retries included) is spent
    │   └── LLMFatalError        retrying cannot help (bad key, unknown model)
    │       ├── LLMUnavailable      requests failed too often in a row                .url
    │       └── ReplayMiss          a strict replay was asked what its recording lacks
    └── SandboxError          the sandbox itself failed (not a program inside it)

Each error carries a message a user can act on; the command line prints it as one line, maps
the class to an exit code (`wc.cli.errors`) and adds hints that name commands. The library's own
messages name no command.
"""
from __future__ import annotations

from typing import Any

from wc._core.secrets import redact, redact_value


class WcError(Exception):
    """Base of every error wc raises deliberately. Its message and context pass through the
    redactor: no error carries an API key, whatever a server said."""

    def __init__(self, message: str = "", **context: Any) -> None:
        super().__init__(redact(message))
        for key, value in context.items():
            setattr(self, key, redact_value(value))


class InvalidInput(WcError, ValueError):
    """An argument that cannot be used as given."""


class DatasetError(InvalidInput):
    """An offline dataset that cannot be used: missing, malformed (`line` says where, 1-based),
    empty, or recorded in spaces other than the environment's."""

    path: str | None = None
    line: int | None = None


class ConfigError(WcError):
    """Settings are missing or contradictory (e.g. no LLM configured)."""


class EnvError(WcError):
    """An environment that cannot be made or played."""


class UnknownEnvironment(EnvError):
    """An environment name that no adapter can make (or whose extra is not installed)."""

    name: str | None = None


class GameError(EnvError):
    """An ALFWorld game file that cannot be played: missing, malformed, or without a solution."""

    path: str | None = None


class LevelError(EnvError, ValueError):
    """A Sokoban level file or level that cannot be played: missing or malformed."""

    path: str | None = None


class InvalidAction(EnvError, ValueError):
    """An action the environment does not have."""

    action: Any = None


class NotFound(WcError):
    """A run, program, curriculum, recording or other stored record that does not exist."""

    kind: str = "record"
    id: Any = None


class StoreError(WcError):
    """The knowledge store cannot be opened, migrated or written."""

    url: str | None = None


class RunBusy(StoreError):
    """The run is finished, or another live process is running it."""

    run_id: int | None = None
    owner: str | None = None
    finished: bool = False
    best_program_id: int | None = None


class LLMError(WcError):
    """The LLM backend failed after its retries."""


class LLMFatalError(LLMError):
    """Retrying cannot help and later requests will fail too (bad key, unknown model)."""


class CallBudgetSpent(LLMError):
    """No request may be sent: the run's LLM call budget is spent (retries count against it)."""


class LLMUnavailable(LLMFatalError):
    """So many requests in a row failed that the server is taken to be unavailable."""

    url: str | None = None


class ReplayMiss(LLMFatalError):
    """A strict replay was asked something the recording does not hold: the run has diverged."""


class SandboxError(WcError):
    """The sandbox itself failed (not a program inside it)."""
