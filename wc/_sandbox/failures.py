"""A program's failure as data (kind, message, line), for the store and the repair prompts."""
from __future__ import annotations

import traceback
from typing import Any

from wc._core.contract import MalformedOutput
from wc._sandbox.guard import PROGRAM_FILE, Forbidden
from wc._sandbox.timer import CallTimeout


def classify(exc: BaseException, source: str | None = None) -> dict[str, Any]:
    """A failure as data: kind, message, and the program line where it happened."""
    if isinstance(exc, CallTimeout):
        kind = "timeout"
    elif isinstance(exc, MemoryError):
        kind = "memory"
    elif isinstance(exc, RecursionError):
        kind = "recursion"
    elif isinstance(exc, Forbidden):
        kind = "forbidden"
    elif isinstance(exc, MalformedOutput):
        kind = "malformed"
    elif isinstance(exc, SyntaxError):
        kind = "syntax"
    else:
        kind = "exception"
    line = None
    if isinstance(exc, SyntaxError) and exc.filename == PROGRAM_FILE:
        line = exc.lineno
    else:
        for frame in traceback.extract_tb(exc.__traceback__):
            if frame.filename == PROGRAM_FILE:
                line = frame.lineno
    message = f"{type(exc).__name__}: {exc}"
    if kind == "timeout":
        message = "the call did not finish within its time limit (an endless loop?)"
    elif kind == "memory":
        message = "the call exceeded the memory limit"
    failure: dict[str, Any] = {"kind": kind, "message": message[:2000]}
    if line is not None:
        failure["line"] = line
        if source is not None:
            lines = source.splitlines()
            if 0 < line <= len(lines):
                failure["code"] = lines[line - 1].strip()
    return failure
