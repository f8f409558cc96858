"""`python -m wc` (inside a venv, the `wc` script shadows coreutils' word count)."""
from wc.cli.main import main

if __name__ == "__main__":
    main()
