"""API modules: the plain Python source the LLM reads and programs run against.

Each file is one version of one domain's module; a changed module is a new file, never an edit
of a published one, so stored programs keep running.
"""
