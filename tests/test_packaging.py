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
