"""Program synthesis: the REx bandit, prompts, code extraction and merging, candidate fan-out."""
