"""The project's own checks, run in the suite so that CI (which runs exactly the README's test
command) runs them: the linter, the type checker and the layers."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def run(*command: str) -> subprocess.CompletedProcess:
    exe = shutil.which(command[0], path=str(Path(sys.executable).parent)) or command[0]
    return subprocess.run([exe, *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_finds_nothing():
    result = run("mypy")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_layers_hold():
    result = run("lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr
