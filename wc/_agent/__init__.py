"""The WorldCoder agent: its configuration and its loop (act, record, check, refine, plan)."""
