"""How the command line reports wc's errors: one line on stderr, an exit code per class of
error, and the hints that name commands (the library's messages name none)."""
from __future__ import annotations

from wc.errors import (
    ConfigError,
    EnvError,
    InvalidInput,
    LLMError,
    NotFound,
    RecordingMismatch,
    RunBusy,
    SandboxError,
    StoreError,
    UnknownEnvironment,
    WcError,
)

# Exit codes (README, "Exit codes"), most specific class first:
#   0 done (also when a run's call budget ran out unsolved)   1 the run failed (a bug in wc; resumable)
#   2 bad input   3 not found   4 store unavailable   5 LLM unavailable or refusing   6 sandbox broken
#   130 interrupted by Ctrl-C, 143 by SIGTERM (both resumable)
EXIT_CODES: list[tuple[type[BaseException], int]] = [
    (NotFound, 3),
    (RunBusy, 2),
    (InvalidInput, 2),
    (ConfigError, 2),
    (EnvError, 2),
    (StoreError, 4),
    (LLMError, 5),
    (SandboxError, 6),
    (WcError, 1),
]
STORE_UNAVAILABLE = 4
SANDBOX_DOWN = 6
# `wc doctor`: what a run needs, in the order it needs it, and the exit code when it fails
DOCTOR_CODES = {"store": STORE_UNAVAILABLE, "llm": 5, "sandbox": SANDBOX_DOWN}
INTERRUPTED = 130
TERMINATED = 143  # SIGTERM (what SLURM, `timeout` and `kill` send): handled as Ctrl-C, exit 128 + 15
_stopped_by: list[str] = []  # "SIGTERM" once one arrived


def on_sigterm(signum, frame) -> None:
    """SIGTERM is handled as Ctrl-C: the run stops cleanly, is marked interrupted and the
    `wc resume` hint is printed. Raising SIGINT lets asyncio cancel the running task as it does
    for Ctrl-C (a KeyboardInterrupt raised here could land anywhere in the event loop)."""
    import signal

    _stopped_by.append("SIGTERM")
    signal.raise_signal(signal.SIGINT)


def interrupted_code() -> int:
    """The exit code of a stop by Ctrl-C (130) or SIGTERM (143)."""
    return TERMINATED if _stopped_by else INTERRUPTED


def interrupted_by() -> str:
    """How the process was stopped, for the line that says so."""
    return "terminated (SIGTERM)" if _stopped_by else "interrupted"
FAILED_RUN = 1
LLM_UNAVAILABLE = 5

_LISTS = {"run": "`wc runs list` shows the runs", "program": "`wc programs list` lists the programs",
          "curriculum": "`wc curriculum list` shows the curricula", "sweep": "`wc sweep list` shows the sweeps"}


def doctor_code(failed: list[str | None], *, sandbox_down: bool) -> int:
    """`wc doctor`'s exit: 0 when everything a run needs works, else the code of the first thing
    that failed, in the order a run needs them (store 4, LLM 5, sandbox 6)."""
    down = set(failed) | ({"sandbox"} if sandbox_down else set())
    return next((code for need, code in DOCTOR_CODES.items() if need in down), 0)


def exit_code(exc: BaseException) -> int:
    for cls, code in EXIT_CODES:
        if isinstance(exc, cls):
            return code
    return 1


def hint(exc: BaseException) -> str:
    """A hint for the error, naming the command that helps, or ''."""
    if isinstance(exc, NotFound) and exc.kind in _LISTS:
        return _LISTS[exc.kind]
    if isinstance(exc, NotFound) and exc.kind == "recording":
        return "`wc runs export-llm RUN > session.json` writes one"
    if isinstance(exc, UnknownEnvironment) and exc.unknown_name:
        return "`wc envs list` shows the short names"
    if isinstance(exc, RecordingMismatch) and exc.recording_kind is not None:
        command = {"curriculum": "wc curriculum", "sweep": "wc sweep"}.get(
            exc.recording_kind, "wc baseline react" if exc.agent == "react" else "wc learn --env ENV")
        return f"replay it with `{command} --replay RECORDING`"
    if isinstance(exc, ConfigError) and exc.missing == "llm" and exc.from_program is not None:
        program = exc.from_program
        which = "the best stored programs" if str(program).lower() == "auto" else f"program {program}"
        return (f"or, to play from {which} without asking an LLM, add --max-llm-calls 0 (the program is still "
                "checked against every step)")
    if isinstance(exc, RunBusy) and exc.finished:
        if exc.best_program_id:
            return f"start a new one with `wc learn`, or `wc learn --from-program {exc.best_program_id}` to build on it"
        return "start a new one with `wc learn`"
    return ""


def message(exc: BaseException) -> str:
    extra = hint(exc)
    return f"{exc}; {extra}" if extra else str(exc)
