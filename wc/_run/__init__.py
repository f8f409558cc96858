"""What runs a run: one run (runner, resume, transfer, recordings) and groups of runs
(curricula, sweeps, evaluations, the ReAct baseline); check_program."""
