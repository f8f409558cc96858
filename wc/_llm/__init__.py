"""LLM clients. Only this package talks HTTP."""
from wc._llm.base import ChatClient, Completion, WaitClock
from wc._llm.replay import ReplayingChat, ReplayMiss

__all__ = ["ChatClient", "Completion", "ReplayMiss", "ReplayingChat", "WaitClock"]
