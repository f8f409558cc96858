"""`wc doctor`: the installation's checks and the sandbox's walls, with the exit code of the first
thing a run needs that fails."""
from __future__ import annotations

import asyncio

import typer
from rich.table import Table
from rich.text import Text

from . import errors
from .common import DbOption, err, make_settings, out, print_json, run_coroutine


def doctor(db: str | None = DbOption,
           json_out: bool = typer.Option(False, "--json", help="The findings as JSON.")) -> None:
    """Check the installation (store, LLM, extras) and show which walls of the sandbox stand (OS
    jail, namespaces, user, filesystem, network, processes, limits, Python layer). Exits 0 when
    everything a run needs works, else 4 (the store), 5 (the LLM) or 6 (the sandbox)."""
    from wc._api import doctor as api_doctor
    from wc._api import installation
    from wc.errors import WcError

    settings = make_settings(db)
    checks = run_coroutine(installation(settings))
    sandbox_error: str | None = None
    try:
        facts, layers = asyncio.run(api_doctor(settings))
    except WcError as exc:  # the sandbox itself cannot start: said, with the checks, and exit 6
        facts, layers, sandbox_error = {}, [], errors.message(exc)
    code = errors.doctor_code([c.needed_for for c in checks if c.ok is False],
                              sandbox_down=sandbox_error is not None or not all(x.active for x in layers))
    if json_out:
        payload = {"checks": [{"name": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix,
                               "needed_for": c.needed_for} for c in checks],
                   "layers": [{"name": x.name, "active": x.active, "detail": x.detail} for x in layers],
                   "worker": facts, "sandbox_error": sandbox_error, "exit_code": code}
        print_json(payload)
        raise typer.Exit(code)
    found = Table("check", "", "found", "fix", title="wc installation")
    for c in checks:
        mark = Text("ok", "green") if c.ok else Text("–", "yellow") if c.ok is None else Text("missing", "red")
        found.add_row(c.name, mark, c.detail, c.fix)
    out.print(found)
    if sandbox_error is not None:
        out.print(Text.assemble(("the sandbox cannot start", "bold red"), f": {sandbox_error}"), highlight=False)
    else:
        table = Table("layer", "", "what a program in the sandbox finds", title="wc sandbox")
        for layer in layers:
            table.add_row(layer.name, Text("on", "green") if layer.active else Text("off", "red"), layer.detail)
        out.print(table)
        missing = [x.name for x in layers if not x.active]
        if missing:
            out.print(Text.assemble((f"not active: {', '.join(missing)}", "bold red"),
                                    ". Install bubblewrap (apt-get install bubblewrap) for the OS jail; without it wc "
                                    "refuses to run LLM-written code unless WC_SANDBOX=python (unsafe)."),
                      highlight=False)
        else:
            out.print("every layer is active", style="green")
    if code:
        failing = [c.name for c in checks if c.ok is False and c.needed_for]
        if sandbox_error is not None or not all(x.active for x in layers):
            failing.append("the sandbox's walls")
        err.print(f"not ready for a run: {', '.join(dict.fromkeys(failing))} (exit {code})", highlight=False)
    raise typer.Exit(code)
