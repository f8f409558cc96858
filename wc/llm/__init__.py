"""LLM clients. Only this package talks HTTP."""
from wc.llm.base import ChatClient, Completion, LLMCall, WaitClock
from wc.llm.openai_backend import OpenAIChat

__all__ = ["ChatClient", "Completion", "LLMCall", "OpenAIChat", "WaitClock"]
