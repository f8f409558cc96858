"""Programs: the world-model value, its sandboxed execution and evaluation."""
