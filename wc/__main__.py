"""`python -m wc` (inside a venv, the `wc` script shadows coreutils' word count)."""
from wc.cli.main import main  # type: ignore[import-not-found]  # cli/ ships as wc.cli

if __name__ == "__main__":
    main()
