"""The OpenAI backend against a local OpenAI-compatible server: retries, failures, accounting."""
import asyncio
import time

import pytest

from wc._llm.openai_backend import OpenAIChat
from wc.errors import ConfigError, LLMError, LLMFatalError
from wc.testing import Reply, sequence

MESSAGES = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello there"}]


def client(server, calls, **kw):
    async def on_call(call):
        calls.append(call)
    kw.setdefault("retries", 3)
    return OpenAIChat(model="test-model", api_key="sk-test-key", base_url=server.base_url, timeout=kw.pop("timeout", 5),
                      on_call=on_call, backoff=0.01, **kw)


async def ask(server, calls, sample=0, **kw):
    """One completion through a fresh client (closed afterwards)."""
    llm = client(server, calls, **kw)
    try:
        return await llm.complete(MESSAGES, purpose="scratch", sample=sample)
    finally:
        await llm.close()


async def test_answer_tokens_and_record(fake_llm):
    calls = []
    server = fake_llm(sequence("the answer"))
    result = await ask(server, calls, sample=2)
    assert result.text == "the answer"
    [call] = calls
    assert call.status == "ok" and call.answer == "the answer" and call.sample == 2 and call.purpose == "scratch"
    assert call.prompt_tokens > 0 and call.completion_tokens > 0 and call.latency_s > 0
    assert server.requests[0]["messages"] == MESSAGES and server.requests[0]["model"] == "test-model"


async def test_rate_limits_and_server_errors_are_retried_and_each_attempt_recorded(fake_llm):
    calls = []
    script = sequence(Reply(status=429, headers={"retry-after": "0"}), Reply(status=500), Reply(status=503), "ok now")
    server = fake_llm(script)
    result = await ask(server, calls)
    assert result.text == "ok now"
    assert [c.status for c in calls] == ["rate_limited", "server_error", "server_error", "ok"]
    assert [c.attempt for c in calls] == [1, 2, 3, 4]


async def test_retry_after_is_honoured(fake_llm):
    calls = []
    server = fake_llm(sequence(Reply(status=429, headers={"retry-after": "1"}), "fine"))
    llm = client(server, calls)
    started = time.monotonic()
    try:
        await llm.complete(MESSAGES, purpose="scratch")
    finally:
        await llm.close()
    assert time.monotonic() - started >= 1.0


async def test_gives_up_after_retries_with_a_clear_error(fake_llm):
    calls = []
    server = fake_llm(sequence(Reply(status=500)))
    with pytest.raises(LLMError, match="after 3 attempts"):
        await ask(server, calls, retries=2)
    assert len(calls) == 3 and all(c.status == "server_error" for c in calls)


async def test_timeouts_are_retried(fake_llm):
    calls = []
    server = fake_llm(sequence(Reply("late", delay=3), "quick"))
    assert (await ask(server, calls, timeout=1)).text == "quick"
    assert [c.status for c in calls] == ["timeout", "ok"]


async def test_bad_key_is_fatal_and_does_not_leak_the_key(fake_llm):
    calls = []
    server = fake_llm(sequence(Reply(status=401)))
    with pytest.raises(LLMFatalError) as info:
        await ask(server, calls)
    assert "sk-test-key" not in str(info.value)
    assert len(calls) == 1 and calls[0].status == "refused"
    assert all("sk-test-key" not in (c.error or "") for c in calls)


async def test_truncated_answers_are_marked(fake_llm):
    calls = []
    server = fake_llm(sequence(Reply("```python\ndef f(", finish_reason="length")))
    await ask(server, calls)
    assert calls[0].status == "truncated"


async def test_concurrency_limit_and_wait_clock_union(fake_llm):
    calls = []
    server = fake_llm(sequence(Reply("x", delay=0.5)))
    llm = client(server, calls, concurrency=2)
    started = time.monotonic()
    try:
        await asyncio.gather(*(llm.complete(MESSAGES, purpose="scratch", sample=i) for i in range(4)))
    finally:
        await llm.close()
    elapsed, waited = time.monotonic() - started, llm.wait.seconds
    assert len(calls) == 4
    assert server.max_in_flight == 2
    # the union of the intervals (two waves of 0.5 s), not their sum (four times 0.5 s)
    assert 1.0 <= waited <= elapsed + 0.05


def test_missing_key_is_a_config_error():
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        OpenAIChat(model="m", api_key=None)


async def test_retries_stop_when_the_call_budget_is_spent(fake_llm):
    from wc.errors import LLMUnavailable

    calls = []
    server = fake_llm(lambda r, n: Reply(status=500))
    llm = client(server, calls, retries=10)
    llm.may_send = lambda estimate: len(calls) < 2  # a run with --max-llm-calls 2
    try:
        with pytest.raises(LLMUnavailable, match=r"2 LLM request\(s\) in a row failed and the call budget is spent"):
            await llm.complete(MESSAGES, purpose="scratch")
    finally:
        await llm.close()
    assert len(server.requests) == 2 and [c.attempt for c in calls] == [1, 2]


async def test_a_spent_budget_sends_nothing_once_the_server_has_answered(fake_llm):
    from wc.errors import CallBudgetSpent

    calls = []
    server = fake_llm(sequence("fine", then=Reply(status=500)))
    llm = client(server, calls)
    llm.may_send = lambda estimate: len(calls) < 2
    try:
        assert (await llm.complete(MESSAGES, purpose="scratch")).text == "fine"
        with pytest.raises(CallBudgetSpent):  # one failed attempt, then no retry beyond the budget
            await llm.complete(MESSAGES, purpose="scratch")
    finally:
        await llm.close()
    assert len(server.requests) == 2


async def test_failures_in_a_row_mean_the_server_is_unavailable(fake_llm):
    from wc.errors import LLMUnavailable

    calls = []
    server = fake_llm(sequence("fine", Reply(status=500), "fine again", then=Reply(status=503)))
    llm = client(server, calls, retries=2, max_failures=4)
    try:
        assert (await llm.complete(MESSAGES, purpose="scratch")).text == "fine"
        assert (await llm.complete(MESSAGES, purpose="scratch")).text == "fine again"  # one failure, then fine
        with pytest.raises(LLMError):  # 3 attempts failed: an ordinary failure
            await llm.complete(MESSAGES, purpose="scratch")
        with pytest.raises(LLMUnavailable, match="4 LLM request"):  # the 4th failure in a row
            await llm.complete(MESSAGES, purpose="scratch")
    finally:
        await llm.close()
    assert [c.status for c in calls] == ["ok", "server_error", "ok", "server_error", "server_error", "server_error",
                                         "server_error"]


async def test_an_unreachable_server_is_named_without_credentials():
    import socket

    from wc.errors import LLMUnavailable

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there
    calls = []

    async def on_call(call):
        calls.append(call)
    llm = OpenAIChat(model="m", api_key="sk-test-key", base_url=f"http://user:hunter2@127.0.0.1:{port}/v1",
                     timeout=2, retries=10, backoff=0.01, on_call=on_call, max_failures=3)
    try:
        with pytest.raises(LLMUnavailable) as caught:
            await llm.complete(MESSAGES, purpose="scratch")
    finally:
        await llm.close()
    assert f"127.0.0.1:{port}" in str(caught.value) and "hunter2" not in str(caught.value)
    assert len(calls) == 3 and all(c.status == "connection_error" for c in calls)
    assert all(f"127.0.0.1:{port}" in c.error and "hunter2" not in c.error for c in calls)


async def test_a_request_cancelled_while_it_is_being_recorded_is_still_recorded(fake_llm):
    """A sibling candidate solved and this request's task is cancelled just as its answer is being
    written to the store: the record is finished first, so the request is accounted for."""
    recording, recorded = asyncio.Event(), []

    async def slow_store(call):
        recording.set()
        await asyncio.sleep(0.3)  # the store's write
        recorded.append(call.status)

    server = fake_llm(sequence("an answer"))
    llm = OpenAIChat(model="m", api_key="sk-test-key", base_url=server.base_url, timeout=5, retries=0,
                     on_call=slow_store)
    try:
        task = asyncio.create_task(llm.complete(MESSAGES, purpose="scratch"))
        await asyncio.wait_for(recording.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    finally:
        await llm.close()
    assert len(server.requests) == 1 and recorded == ["ok"]


async def test_a_run_gets_its_own_view_of_the_client_and_the_client_given_is_unchanged(fake_llm):
    from wc._core.values import RecordedAnswer, request_hash
    from wc._llm.replay import ReplayingChat

    server = fake_llm(lambda r, n: Reply("from the server"))
    base_calls, run_calls = [], []
    base = client(server, base_calls)

    async def on_run_call(call):
        run_calls.append(call)
    recorded = [RecordedAnswer(request_hash=request_hash("test-model", MESSAGES), sample=0, answer="recorded",
                               prompt_tokens=1, completion_tokens=1, call_id=7)]
    replaying = ReplayingChat(base, recorded, model="test-model", record_hits=True)
    view = replaying.with_hooks(on_call=on_run_call, may_send=lambda estimate: True)
    try:
        assert (await view.complete(MESSAGES, purpose="scratch")).text == "recorded"
        assert (await view.complete(MESSAGES, purpose="scratch")).text == "from the server"
        # the view reported both; the client given keeps its own hooks and was not asked
        assert [c.answer for c in run_calls] == ["recorded", "from the server"] and base_calls == []
        assert replaying.on_call is None and replaying.may_send is None and base.may_send is None
        assert (replaying.hits, replaying.misses) == (1, 1)  # one recording, served once, whoever counts
        assert view.wait is base.wait  # one clock: the run's time waiting for the LLM
    finally:
        await base.close()


async def test_a_request_cancelled_in_a_recording_is_sent_again_as_cancelled_and_has_no_answer(fake_llm):
    """A strict replay counts a recorded cancelled request as the run did and fails only if asked
    for its answer (the replay diverged); resuming asks the server for it."""
    from wc._core.values import RecordedAnswer, request_hash
    from wc._llm.replay import ReplayingChat, load_recording
    from wc.errors import ReplayMiss

    key = request_hash("test-model", MESSAGES)
    _, recorded = load_recording({"format": "wc-llm-recording", "calls": [
        {"request_hash": key, "sample": 0, "status": "ok", "answer": "first"},
        {"request_hash": key, "sample": 1, "status": "cancelled", "answer": None},
        {"request_hash": key, "sample": 1, "status": "ok", "answer": "second"},
        {"request_hash": key, "sample": 2, "status": "timeout", "answer": None}]})  # failures are not replayed
    assert [(r.sample, r.cancelled) for r in recorded] == [(0, False), (1, True), (1, False)]
    run_calls = []

    async def on_call(call):
        run_calls.append(call)
    replay = ReplayingChat(None, recorded, model="test-model", record_hits=True).with_hooks(on_call=on_call,
                                                                                         may_send=None)
    assert (await replay.complete(MESSAGES, purpose="scratch")).text == "first"
    with pytest.raises(ReplayMiss, match="was cancelled before its answer"):
        await replay.complete(MESSAGES, purpose="scratch", sample=1)
    assert (await replay.complete(MESSAGES, purpose="scratch", sample=1)).text == "second"
    assert [(c.status, c.answer) for c in run_calls] == [("replayed", "first"), ("cancelled", None),
                                                         ("replayed", "second")]

    server = fake_llm(lambda r, n: Reply("from the server"))
    inner = client(server, [])
    resuming = ReplayingChat(inner, [RecordedAnswer(key, 0, "", cancelled=True)], model="test-model")
    try:
        assert (await resuming.complete(MESSAGES, purpose="scratch")).text == "from the server"
        assert (resuming.hits, resuming.misses, len(server.requests)) == (0, 1, 1)
    finally:
        await inner.close()
