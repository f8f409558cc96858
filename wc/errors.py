"""One exception tree for everything wc raises on purpose.

    WcError
    ├── InvalidInput          an argument that cannot be used (a program id that is not a number, …)
    │   ├── RecordingMismatch    a recording of another kind than the command replays .recording_kind, .agent
    │   └── DatasetError         an offline dataset that cannot be read or does not fit  .path, .line
    ├── ConfigError           settings missing or contradictory (no LLM configured, …) .missing, .from_program
    ├── EnvError              an environment that cannot be made or played            .name
    │   ├── UnknownEnvironment   no adapter fits the name, or an extra is missing     .unknown_name
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

Each error carries a message a user can act on, and the fields its class declares (drawn
above); the command line prints the message as one line, maps the class to an exit code
(`wc.cli.errors`) and adds hints that name commands, chosen by class and fields, never by the
message's text. The library's own messages name no command.
"""
from __future__ import annotations

from typing import Any

from wc._core.secrets import redact, redact_value


class WcError(Exception):
    """Base of every error wc raises deliberately. Its message and fields pass through the
    redactor: no error carries an API key, whatever a server said. Each class declares its own
    keyword fields (all optional, so that an error pickles and unpickles as it was)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(redact(message))


class InvalidInput(WcError, ValueError):
    """An argument that cannot be used as given."""


class RecordingMismatch(InvalidInput):
    """A recording of another kind than the command replays: `recording_kind` is what it is
    ("run", "curriculum", "sweep"), `agent` who recorded a run ("worldcoder" or "react")."""

    def __init__(self, message: str = "", *, recording_kind: str | None = None, agent: str | None = None) -> None:
        super().__init__(message)
        self.recording_kind: str | None = redact_value(recording_kind)
        self.agent: str | None = redact_value(agent)


class DatasetError(InvalidInput):
    """An offline dataset that cannot be used: missing, malformed (`line` says where, 1-based),
    empty, or recorded in spaces other than the environment's."""

    def __init__(self, message: str = "", *, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.path: str | None = redact_value(path)
        self.line = line


class ConfigError(WcError):
    """Settings are missing or contradictory (e.g. no LLM configured). `missing` names the
    setting a run lacks ("llm"); `from_program` is the program the run would start from."""

    def __init__(self, message: str = "", *, missing: str | None = None,
                 from_program: int | str | None = None) -> None:
        super().__init__(message)
        self.missing = missing
        self.from_program: int | str | None = redact_value(from_program)


class EnvError(WcError):
    """An environment that cannot be made or played (`name`: which, where it is known)."""

    def __init__(self, message: str = "", *, name: str | None = None) -> None:
        super().__init__(message)
        self.name: str | None = redact_value(name)


class UnknownEnvironment(EnvError):
    """An environment name that no adapter can make (or whose extra is not installed).
    `unknown_name`: neither wc nor gymnasium knows the name at all (not: it exists, but cannot
    be made or read here)."""

    def __init__(self, message: str = "", *, name: str | None = None, unknown_name: bool = False) -> None:
        super().__init__(message, name=name)
        self.unknown_name = unknown_name


class GameError(EnvError):
    """An ALFWorld game file that cannot be played: missing, malformed, or without a solution."""

    def __init__(self, message: str = "", *, path: str | None = None) -> None:
        super().__init__(message)
        self.path: str | None = redact_value(path)


class LevelError(EnvError, ValueError):
    """A Sokoban level file or level that cannot be played: missing or malformed."""

    def __init__(self, message: str = "", *, path: str | None = None) -> None:
        super().__init__(message)
        self.path: str | None = redact_value(path)


class InvalidAction(EnvError, ValueError):
    """An action the environment does not have."""

    def __init__(self, message: str = "", *, action: Any = None) -> None:
        super().__init__(message)
        self.action: Any = redact_value(action)


class NotFound(WcError):
    """A run, program, curriculum, recording or other stored record that does not exist."""

    def __init__(self, message: str = "", *, kind: str = "record", id: Any = None) -> None:
        super().__init__(message)
        self.kind: str = redact_value(kind)
        self.id: Any = redact_value(id)


class StoreError(WcError):
    """The knowledge store cannot be opened, migrated or written (`url`: which, redacted)."""

    def __init__(self, message: str = "", *, url: str | None = None) -> None:
        super().__init__(message)
        self.url: str | None = redact_value(url)


class RunBusy(StoreError):
    """The run is finished (`finished`, with its `best_program_id`), or another live process
    (`owner`) is running it."""

    def __init__(self, message: str = "", *, run_id: int | None = None, owner: str | None = None,
                 finished: bool = False, best_program_id: int | None = None) -> None:
        super().__init__(message)
        self.run_id = run_id
        self.owner: str | None = redact_value(owner)
        self.finished = finished
        self.best_program_id = best_program_id


class LLMError(WcError):
    """The LLM backend failed after its retries."""


class LLMFatalError(LLMError):
    """Retrying cannot help and later requests will fail too (bad key, unknown model)."""


class CallBudgetSpent(LLMError):
    """No request may be sent: the run's LLM call budget is spent (retries count against it)."""


class LLMUnavailable(LLMFatalError):
    """So many requests in a row failed that the server is taken to be unavailable (`url`,
    redacted)."""

    def __init__(self, message: str = "", *, url: str | None = None) -> None:
        super().__init__(message)
        self.url: str | None = redact_value(url)


class ReplayMiss(LLMFatalError):
    """A strict replay was asked something the recording does not hold: the run has diverged."""


class SandboxError(WcError):
    """The sandbox itself failed (not a program inside it)."""
