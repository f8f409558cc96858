"""wc's own ALFWorld games: small rooms, two per task type, as `.tw-pddl` files.

Each file is a complete TextWorld PDDL game (alfworld's domain and grammar, the task text set
in the grammar as alfworld's dataset builder does, a walkthrough found by the engine's planner).
`python -m wc.envs.alfworld.games.generate` rewrites them from the room descriptions there.
"""
