"""Any OpenAI-compatible chat server through `openai.AsyncOpenAI` (OpenAI, vLLM, Ollama, …).

Retries (tenacity) on rate limits, server errors, timeouts and dropped connections, honouring
Retry-After; a semaphore limits requests in flight (one of its own, or one shared by the runs of a
sweep with their HTTP client: `wc._llm.shared`); every request is reported to `on_call`,
successful or not, so the store can account for it. Each attempt asks `may_send` first (the run's
call budget: retries count against it), and `max_failures` failed requests in a row mean the
server is unavailable: the run stops instead of playing on without a model.
"""
from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import openai
from openai.types.chat import ChatCompletion
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from wc._core import secrets
from wc._core.values import CallStatus, LLMCall
from wc._llm.base import Completion, OnCall, WaitClock, hooked
from wc._llm.costs import cost_usd
from wc._llm.shared import SharedConnection
from wc.errors import CallBudgetSpent, ConfigError, LLMError, LLMFatalError, LLMUnavailable


class MalformedResponse(Exception):
    """The server answered 200 with something that is not a chat completion (e.g. invalid JSON)."""


TRANSIENT = (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError,
             MalformedResponse)
FATAL = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)


def _status(exc: BaseException) -> CallStatus:
    if isinstance(exc, openai.RateLimitError):
        return CallStatus.RATE_LIMITED
    if isinstance(exc, openai.APITimeoutError):
        return CallStatus.TIMEOUT
    if isinstance(exc, openai.APIConnectionError):
        return CallStatus.CONNECTION_ERROR
    if isinstance(exc, (openai.InternalServerError, MalformedResponse)):
        return CallStatus.SERVER_ERROR
    if isinstance(exc, openai.APIStatusError):
        return CallStatus.REFUSED
    return CallStatus.ERROR


def _describe(exc: BaseException) -> str:
    """What went wrong, in one line, redacted (servers echo keys back in their error bodies)."""
    if isinstance(exc, openai.APIStatusError):
        return secrets.redact(f"HTTP {exc.status_code}: {exc.message}")[:500]
    return secrets.redact(f"{type(exc).__name__}: {exc}")[:500]


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return min(60.0, max(0.0, float(value))) if value is not None else None
    except ValueError:
        return None


class OpenAIChat:
    def __init__(self, *, model: str, api_key: str | None, base_url: str | None = None, timeout: float = 120.0,
                 retries: int = 4, concurrency: int = 8, temperature: float = 1.0, on_call: OnCall | None = None,
                 backoff: float = 1.0, max_tokens: int | None = None, max_failures: int = 5,
                 shared: SharedConnection | None = None) -> None:
        if not api_key and shared is None:
            raise ConfigError("no LLM is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a "
                              "non-OpenAI server such as vLLM or Ollama)")
        if api_key:
            secrets.register(api_key)
        self.model = model
        self.temperature = temperature
        self.retries = retries
        self.backoff = backoff
        self.max_tokens = max_tokens
        self.on_call = on_call
        self.may_send: Callable[[float | None], bool] | None = None  # gets the request's estimated cost
        self.max_failures = max(1, max_failures)
        self.failures_in_row = 0
        self.answered = 0  # requests that got an answer: a server that never answers is unavailable
        self.wait = WaitClock()
        self._shared = shared
        if shared is not None:  # the sweep's client and limit; the sweep closes them
            self._sem, self._client = shared.limit, shared.client
        else:
            self._sem = asyncio.Semaphore(max(1, concurrency))
            self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)
        self.url = secrets.redact(str(self._client.base_url))

    def _describe(self, exc: BaseException) -> str:
        if isinstance(exc, (openai.APIConnectionError, openai.APITimeoutError)):  # timeouts are connection errors
            return secrets.redact(f"{type(exc).__name__} at {self.url}: {exc}")[:500]
        return _describe(exc)

    def estimate(self, messages: list[dict[str, str]]) -> float | None:
        """What a request could cost at most, in dollars (None: no price for the model): its
        prompt at about 4 characters a token, and a full answer of max_tokens (4,096 if unset)."""
        prompt = sum(len(m.get("content") or "") for m in messages) // 4 + 8 * len(messages)
        return cost_usd(self.model, prompt, self.max_tokens or 4096)

    def _wait(self, state) -> float:
        exc = state.outcome.exception() if state.outcome else None
        hinted = _retry_after(exc) if exc else None
        if hinted is not None:
            return hinted
        return min(30.0, self.backoff * (2 ** (state.attempt_number - 1))) * (0.5 + random.random() / 2)

    async def complete(self, messages: list[dict[str, str]], *, purpose: str, sample: int = 0) -> Completion:
        retrying = AsyncRetrying(stop=stop_after_attempt(self.retries + 1), wait=self._wait,
                                 retry=retry_if_exception(lambda e: isinstance(e, TRANSIENT)), reraise=True)
        try:
            async with self._sem:
                async for attempt in retrying:
                    with attempt:
                        return await self._once(messages, purpose, sample, attempt.retry_state.attempt_number)
        except FATAL as exc:
            raise LLMFatalError(f"the LLM server at {self.url} refused the request ({_describe(exc)}); check "
                                f"OPENAI_API_KEY, OPENAI_BASE_URL and --model") from None
        except (openai.OpenAIError, MalformedResponse) as exc:
            raise LLMError(f"LLM request failed after {self.retries + 1} attempts: {self._describe(exc)}") from None
        raise LLMError("LLM request failed")  # pragma: no cover - tenacity always returns or raises

    async def _once(self, messages: list[dict[str, str]], purpose: str, sample: int, attempt: int) -> Completion:
        if self.may_send is not None and not self.may_send(self.estimate(messages)):
            raise CallBudgetSpent("the run's LLM budget is spent (retries count against it)")
        if self.failures_in_row >= self.max_failures:  # another request in flight found the server down
            raise LLMUnavailable(f"{self.failures_in_row} LLM request(s) in a row failed", url=self.url)
        call = LLMCall(purpose=purpose, model=self.model, messages=messages, sample=sample, attempt=attempt)
        started = time.monotonic()
        self.wait.enter()
        try:
            kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
            if self.max_tokens:
                kwargs["max_tokens"] = self.max_tokens
            try:
                response = await self._client.chat.completions.create(**kwargs)
            except (ValueError, TypeError, openai.APIResponseValidationError) as exc:  # JSONDecodeError, bad shapes
                raise MalformedResponse(f"the server's answer is not a chat completion: {exc}") from None
            if not isinstance(response, ChatCompletion):  # a 200 that is not JSON: the SDK hands back its text
                raise MalformedResponse(f"the server's answer is not a chat completion: a {type(response).__name__} "
                                        f"({secrets.redact(str(response))[:80]!r})")
        except BaseException as exc:
            call.latency_s = time.monotonic() - started
            if isinstance(exc, asyncio.CancelledError):
                call.status, call.error = CallStatus.CANCELLED, "cancelled by wc"
            else:
                call.status, call.error = _status(exc), self._describe(exc)
                self.failures_in_row += 1
            await self._report(call)
            if not isinstance(exc, asyncio.CancelledError):
                spent = self.may_send is not None and not self.may_send(None)
                if self.failures_in_row >= self.max_failures or (spent and not self.answered):
                    raise LLMUnavailable(f"{self.failures_in_row} LLM request(s) in a row failed"
                                         f"{' and the call budget is spent' if spent else ''}; the last: "
                                         f"{call.error}", url=self.url) from None
            raise
        finally:
            self.wait.exit()
        call.latency_s = time.monotonic() - started
        self.failures_in_row = 0
        self.answered += 1
        choice = response.choices[0] if response.choices else None
        call.answer = secrets.redact((choice.message.content if choice and choice.message else None) or "")
        call.finish_reason = choice.finish_reason if choice else None
        if call.finish_reason == "length":
            call.status = CallStatus.TRUNCATED
        usage = response.usage
        if usage is not None:
            call.prompt_tokens = int(usage.prompt_tokens or 0)
            call.completion_tokens = int(usage.completion_tokens or 0)
        call.cost_usd = cost_usd(call.model, call.prompt_tokens, call.completion_tokens)
        await self._report(call)
        return Completion(call.answer, call)

    async def _report(self, call: LLMCall) -> None:
        """Tell the store of a request; a cancellation meanwhile (a sibling candidate solved) waits
        for the record to be written first, so that no request the server saw goes unaccounted."""
        if self.on_call is None:
            return
        recording = asyncio.ensure_future(self.on_call(call))
        try:
            await asyncio.shield(recording)
        except asyncio.CancelledError:
            await recording
            raise

    def with_hooks(self, *, on_call: OnCall | None, may_send: Callable[[float | None], bool] | None) -> OpenAIChat:
        return hooked(self, on_call, may_send)

    async def close(self) -> None:
        if self._shared is None:
            await self._client.close()
