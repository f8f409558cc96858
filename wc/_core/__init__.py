"""What every layer shares: values (states, statuses, LLM calls), the state canonicaliser, the
world-model program contract, tolerances, the redactor, settings and where the store is."""
