"""LLM clients. Only this package talks HTTP."""
from wc.llm.base import ChatClient, Completion, LLMCall, WaitClock, request_hash
from wc.llm.replay import RecordedAnswer, ReplayingChat, ReplayMiss

__all__ = ["ChatClient", "Completion", "LLMCall", "RecordedAnswer", "ReplayMiss", "ReplayingChat", "WaitClock",
           "request_hash"]
