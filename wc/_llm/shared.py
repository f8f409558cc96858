"""One connection to the LLM server for the many runs of one process (a local sweep): one HTTP
client, whose connection pool and TLS context are made once, and one limit on the requests in
flight across all runs. Each run's OpenAIChat keeps its own budget, accounting and failure count."""
from __future__ import annotations

import asyncio

import openai

from wc._core import secrets
from wc.errors import ConfigError


class SharedConnection:
    """What the runs of a sweep share; closed by whoever made it, after the last run."""

    def __init__(self, *, api_key: str | None, base_url: str | None = None, timeout: float = 120.0,
                 concurrency: int = 8) -> None:
        if not api_key:
            raise ConfigError("no LLM is configured: set OPENAI_API_KEY (and OPENAI_BASE_URL for a "
                              "non-OpenAI server such as vLLM or Ollama)")
        secrets.register(api_key)
        self.concurrency = max(1, concurrency)
        self.limit = asyncio.Semaphore(self.concurrency)
        self.client = openai.AsyncOpenAI(api_key=api_key, base_url=base_url, timeout=timeout, max_retries=0)

    async def close(self) -> None:
        await self.client.close()
