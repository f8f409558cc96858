"""What reports on runs: figures, the results page, spread over seeds, lineage graphs, exported
tables, episodes played back."""
