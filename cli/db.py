"""`wc db upgrade|current|path`: the store, where it is and its schema."""
from __future__ import annotations

import typer

from wc._core.secrets import redact

from .common import DbOption, JsonOption, make_settings, out, print_json, run_coroutine

app = typer.Typer(help="The store: where it is, its schema.", no_args_is_help=True)


@app.command("upgrade")
def db_upgrade(db: str | None = DbOption) -> None:
    """Create the schema or upgrade it to this wc's version."""
    from wc._api import db_upgrade as upgrade

    out.print(f"schema at revision {run_coroutine(upgrade(make_settings(db).db))}")


@app.command("current")
def db_current(db: str | None = DbOption, json_out: bool = JsonOption) -> None:
    """The schema revision of the store, and this wc's."""
    from wc._api import db_current as current

    revision, head = run_coroutine(current(make_settings(db).db))
    state = "up to date" if revision == head else ("empty" if revision is None else "needs `wc db upgrade`")
    if json_out:
        print_json({"revision": revision, "head": head, "up_to_date": revision == head})
        return
    out.print(f"store revision {revision or 'none'}; this wc expects {head} ({state})")


@app.command("path")
def db_path(db: str | None = DbOption) -> None:
    """The store URL in use (--db, else WC_DB, else the default SQLite file), password masked."""
    out.print(redact(make_settings(db).db), highlight=False, markup=False, soft_wrap=True)
