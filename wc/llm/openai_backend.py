"""Any OpenAI-compatible chat server through `openai.AsyncOpenAI` (OpenAI, vLLM, Ollama, …).

Retries (tenacity) on rate limits, server errors, timeouts and dropped connections, honouring
Retry-After; a semaphore limits requests in flight; every request is reported to `on_call`,
successful or not, so the store can account for it.
"""
from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import openai
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt

from wc.errors import ConfigError, LLMError, LLMFatalError
from wc.llm.base import Completion, OnCall, WaitClock
from wc.llm.costs import cost_usd
from wc.values import CallStatus, LLMCall

TRANSIENT = (openai.RateLimitError, openai.APITimeoutError, openai.APIConnectionError, openai.InternalServerError)
FATAL = (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError)


def _status(exc: BaseException) -> CallStatus:
    if isinstance(exc, openai.RateLimitError):
        return CallStatus.RATE_LIMITED
    if isinstance(exc, openai.APITimeoutError):
        return CallStatus.TIMEOUT
    if isinstance(exc, openai.APIConnectionError):
        return CallStatus.CONNECTION_ERROR
    if isinstance(exc, openai.InternalServerError):
        return CallStatus.SERVER_ERROR
    if isinstance(exc, openai.APIStatusError):
        return CallStatus.REFUSED
    return CallStatus.ERROR


def _describe(exc: BaseException) -> str:
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {exc.message}"[:500]
    return f"{type(exc).__name__}: {exc}"[:500]


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
                 backoff: float = 1.0, max_tokens: int | None = None) -> None:
        if not api_key:
            raise ConfigError("no LLM is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a "
                              "non-OpenAI server such as vLLM or Ollama)")
        self.model = model
        self.temperature = temperature
        self.retries = retries
        self.backoff = backoff
        self.max_tokens = max_tokens
        self.on_call = on_call
        self.wait = WaitClock()
        self._sem = asyncio.Semaphore(max(1, concurrency))
        self._client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)

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
            raise LLMFatalError(f"the LLM server refused the request ({_describe(exc)}); check OPENAI_API_KEY, "
                                f"OPENAI_BASE_URL and --model") from None
        except openai.OpenAIError as exc:
            raise LLMError(f"LLM request failed after {self.retries + 1} attempts: {_describe(exc)}") from None
        raise LLMError("LLM request failed")  # pragma: no cover - tenacity always returns or raises

    async def _once(self, messages: list[dict[str, str]], purpose: str, sample: int, attempt: int) -> Completion:
        call = LLMCall(purpose=purpose, model=self.model, messages=messages, sample=sample, attempt=attempt)
        started = time.monotonic()
        self.wait.enter()
        try:
            kwargs: dict[str, Any] = {"model": self.model, "messages": messages, "temperature": self.temperature}
            if self.max_tokens:
                kwargs["max_tokens"] = self.max_tokens
            response = await self._client.chat.completions.create(**kwargs)
        except BaseException as exc:
            call.latency_s = time.monotonic() - started
            if isinstance(exc, asyncio.CancelledError):
                call.status, call.error = CallStatus.CANCELLED, "cancelled by wc"
            else:
                call.status, call.error = _status(exc), _describe(exc)
            await self._report(call)
            raise
        finally:
            self.wait.exit()
        call.latency_s = time.monotonic() - started
        choice = response.choices[0] if response.choices else None
        call.answer = (choice.message.content if choice and choice.message else None) or ""
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
        if self.on_call is not None:
            await self.on_call(call)

    async def close(self) -> None:
        await self._client.close()
