"""API keys never leave the process: not into the store, the terminal, `--json` output or an
exception, whatever a server echoes back."""
from __future__ import annotations

import asyncio
import json
import sqlite3

import pytest
from support.helpers import run_wc

from wc._core.secrets import MASK, redact, redact_value, register
from wc.testing import Reply, answer

KEY = "sk-live-7Hq2ZpL0xWvB9mK4nR8tY1cE"  # what a user's real key looks like


def test_the_redactor_masks_keys_tokens_and_url_passwords():
    register("my-own-4c83-token")
    assert redact("key my-own-4c83-token here") == f"key {MASK} here"
    register("bridge")  # a placeholder key, not a secret: "bridge-model" stays readable
    assert redact("bridge-model") == "bridge-model"
    assert redact(f"Incorrect API key provided: {KEY}.") == f"Incorrect API key provided: {MASK}."
    assert redact("Incorrect API key provided: sk-proj-abcDEF123456") == f"Incorrect API key provided: {MASK}"
    assert redact("Authorization: Bearer abc.def-123456") == f"Authorization: Bearer {MASK}"
    assert redact("postgresql+asyncpg://wc:hunter2@db:5432/wc") == f"postgresql+asyncpg://wc:{MASK}@db:5432/wc"
    assert redact('{"api_key": "abc123xyz", "n": 1}') == f'{{"api_key": "{MASK}", "n": 1}}'
    assert redact("https://api.example.com/v1?api-key=abc123&x=1") == f"https://api.example.com/v1?api-key={MASK}&x=1"
    # what is not a secret stays as it was, and JSON stays JSON
    text = '{"url": "http://localhost:8080/v1", "email": "a@b.org", "task-force": "ask-me"}'
    assert redact(text) == text and json.loads(redact(text))
    assert redact("") == "" and redact_value({"a": [f"x {KEY}", 3, None]}) == {"a": [f"x {MASK}", 3, None]}


def test_errors_are_redacted_when_raised():
    from wc.errors import LLMError, StoreError

    assert KEY not in str(LLMError(f"HTTP 401: Incorrect API key provided: {KEY}"))
    assert KEY not in StoreError("x", url=f"postgresql://u:{KEY}@h/db").url


def echoing(n_ok: int):
    """A server that puts the key into every kind of failure, and once into an answer."""
    def script(request, n):
        echo = f"Incorrect API key provided: {KEY}. Authorization: Bearer {KEY}"
        if n == 0:
            return Reply(status=500, body=json.dumps({"error": {"message": echo}}), headers={"x-echo": KEY})
        if n == 1:
            return Reply(status=429, body=json.dumps({"error": {"message": echo}}),
                         headers={"retry-after": "0", "x-echo": KEY})
        if n == 2:
            return Reply(status=200, body=f"not json at all {KEY}")
        if n < 3 + n_ok:
            return Reply(f"Your key is {KEY}, by the way.\n\n```python\n# {KEY}\n" + answer("x = 1")
                         .split("```python\n", 1)[1])
        return Reply(status=401, body=json.dumps({"error": {"message": echo, "type": "invalid_request_error"}}),
                     headers={"x-echo": KEY})
    return script



def dump(db_path) -> str:
    con = sqlite3.connect(db_path)
    try:
        return "\n".join(con.iterdump())
    finally:
        con.close()


@pytest.mark.slow
@pytest.mark.parametrize("fatal", [401, 403])
async def test_a_key_echoed_by_the_server_reaches_no_store_output_or_error(fake_llm, tmp_path, fatal):
    script = echoing(n_ok=2)

    def with_fatal(request, n):
        reply = script(request, n)
        if reply.status == 401:
            reply.status = fatal
        return reply
    server = fake_llm(with_fatal)
    db = tmp_path / "wc.db"
    env = {"WC_DB": f"sqlite:///{db}", "OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": server.base_url,
           "WC_LLM_RETRIES": "1"}
    learned = await asyncio.to_thread(run_wc, "learn", "--env", "minigrid-doorkey", "--episodes", "4", "--solved",
                                      "4", "--max-llm-calls", "8", "--json", env=env)
    assert len(server.requests) >= 4, learned.stderr  # the echoing failures were all met
    outputs = [learned.stdout, learned.stderr]
    for args in (("runs", "show", "1", "--json"), ("runs", "show", "1"), ("runs", "list"),
                 ("runs", "export-llm", "1"), ("programs", "list")):
        shown = await asyncio.to_thread(run_wc, *args, env=env)
        assert shown.returncode == 0, (args, shown.stderr)
        outputs += [shown.stdout, shown.stderr]
    everything = "\n".join(outputs) + dump(db)
    assert KEY not in everything
    assert KEY[8:20] not in everything  # not even a piece of it
    assert "Incorrect API key provided" in everything  # the servers' messages themselves are kept
    assert MASK in everything
