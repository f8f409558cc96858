"""LLM clients. Only this package talks HTTP."""
from wc.llm.base import ChatClient, Completion, WaitClock
from wc.llm.replay import ReplayingChat, ReplayMiss

__all__ = ["ChatClient", "Completion", "ReplayMiss", "ReplayingChat", "WaitClock"]
