"""The distribution: one top-level import package, `wc`, with the command line and the
migrations inside it; every package of the source tree is listed for the build."""
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def source_packages() -> set[str]:
    """Import names of every folder with an __init__.py, with the project's package-dir mapping."""
    mapping = {"wc": ROOT / "wc", "wc.cli": ROOT / "cli", "wc._migrations": ROOT / "migrations"}
    found = set()
    for name, folder in mapping.items():
        for init in folder.rglob("__init__.py"):
            rel = init.parent.relative_to(folder)
            parts = [p for p in rel.parts if p]
            if any(p.startswith((".", "__pycache__")) for p in parts):
                continue
            found.add(".".join([name, *parts]))
    return found


def test_every_package_is_listed_and_there_is_one_top_level_name():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    assert listed == source_packages()
    assert {p.split(".")[0] for p in listed} == {"wc"}
    assert config["package-dir"] == {"wc.cli": "cli", "wc._migrations": "migrations"}


def test_the_command_line_and_migrations_import_from_inside_wc():
    import wc._migrations
    import wc.cli.main

    assert Path(wc.cli.main.__file__).parent == ROOT / "cli"
    assert Path(wc._migrations.__file__).parent == ROOT / "migrations"
    assert (ROOT / "wc" / "py.typed").exists()


def _base_requirements() -> set[str]:
    """The distributions the README's first command installs (`pip install -e .`): the base
    dependencies, without any extra."""
    import re

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    return {re.split(r"[<>=!~\[; ]", d, maxsplit=1)[0].lower() for d in deps}


def test_what_the_first_command_suggests_needs_no_extra():
    """`wc learn` ends by suggesting `wc report`, the README's Python example plots, and `wc runs
    render` draws with Pillow: all of it must work after `pip install -e .` alone."""
    import re

    base = _base_requirements()
    assert {"matplotlib", "pillow"} <= base
    readme = (ROOT / "README.md").read_text()
    script = re.search(r"<!-- python-api-example -->\n```python\n(.*?)```", readme, re.S).group(1)
    imported = {m.split(".")[0] for m in re.findall(r"^\s*import (\S+)", script, re.M)}
    assert imported - {"wc"} <= base, imported
    report = (ROOT / "wc" / "_report" / "report.py").read_text()
    assert "worldcoder[report]" not in report  # no error message sends users after an extra they already have


def test_the_command_is_also_installed_as_worldcoder():
    """Inside a virtual environment `wc` shadows coreutils' word count; scripts call `worldcoder`."""
    import shutil
    import subprocess
    import sys

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["wc"] == scripts["worldcoder"] == "wc.cli.main:main"
    exe = shutil.which("worldcoder", path=str(Path(sys.executable).parent))
    assert exe is not None, "reinstall: pip install -e ."
    done = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("wc "), done.stdout + done.stderr


def test_wc_version_is_the_distributions():
    import wc

    assert tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"] == wc.__version__


def test_ci_runs_exactly_the_readmes_test_command_which_installs_what_the_tests_start():
    """The README's test command works on a fresh machine as written: it installs the jail and the
    PostgreSQL binaries the suite starts (tests/support/pg.py); .ci/run calls exactly that command."""
    import re

    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```\n(.*?)\n```", readme, re.S)
    test_command = next(b for b in blocks if "pytest" in b)
    assert "\n" not in test_command
    for needed in ("bubblewrap", "postgresql", "initdb", "DEBIAN_FRONTEND=noninteractive", "pip install -e '.[test]'"):
        assert needed in test_command, needed
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert ci[-1] == test_command
    assert not any("apt-get" in line for line in ci[:-1])  # nothing installed that the README's command does not
