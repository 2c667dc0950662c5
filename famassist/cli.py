"""The ``famassist`` command."""

from __future__ import annotations

from typing import Annotated

import typer

from domain.roles import Role
from famassist.logs import configure_logging
from famassist.settings import get_settings

app = typer.Typer(help="famassist: the family assistant service's case management.", no_args_is_help=True)


@app.command()
def up(temporal: Annotated[bool, typer.Option(help="Start the embedded Temporal dev server")] = True) -> None:
    """Start everything (what `make run` runs): Temporal dev server, migrations, worker, API."""
    from famassist.launcher import run_stack

    raise typer.Exit(run_stack(get_settings(), start_temporal=temporal))


@app.command()
def token(
    role: Annotated[Role, typer.Option(help="The caller's role (DOMAIN.md §1)")],
    municipality: Annotated[str, typer.Option(help="Municipality code, e.g. CESIS")],
    user: Annotated[str, typer.Option(help="The user id (the token's sub)")],
) -> None:
    """Print a development JWT. Refused unless the development signing key is configured."""
    from famassist.tokens import NoSigningKey, issue_dev_token

    if role is Role.SYSTEM:
        typer.echo("the system role is not given to people", err=True)
        raise typer.Exit(2)
    try:
        typer.echo(issue_dev_token(get_settings(), role=role, municipality=municipality, user_id=user))
    except NoSigningKey as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@app.command()
def demo(api_url: Annotated[str | None, typer.Option(help="The API's base URL")] = None) -> None:
    """Load a small demo data set through the API (the stack must be running)."""
    from famassist.demo import load_demo

    settings = get_settings()
    url = api_url or f"http://{settings.api_host}:{settings.api_port}"
    for line in load_demo(settings, url):
        typer.echo(line)


@app.command()
def api(
    workers: Annotated[int, typer.Option(min=1, envvar="FAMASSIST_API_WORKERS",
                                         help="API processes sharing the port (uvicorn workers)")] = 1,
) -> None:
    """Serve the HTTP API (production: behind a reverse proxy).

    With ``--workers N`` uvicorn runs N processes on one port, each with its own Temporal
    client and database pool; any number of ``famassist worker`` processes may share the task queue.
    """
    import uvicorn

    settings = get_settings()
    configure_logging(settings.log_format, settings.log_level)  # uvicorn's lines too, JSON in production
    uvicorn.run("api.app:app_from_settings", factory=True, host=settings.api_host, port=settings.api_port,
                workers=workers, log_config=None)


@app.command()
def worker() -> None:
    """Run the Temporal worker (several may poll one task queue: start it more than once to share the work)."""
    import worker as worker_module

    worker_module.run()


@app.command()
def migrate() -> None:
    """Bring the database to the newest schema (Alembic)."""
    from persistence.migrate import upgrade

    upgrade(get_settings().database_url)
    typer.echo("database is up to date")


@app.command()
def simulate(
    municipalities: Annotated[int, typer.Option(min=1, help="Municipalities taking part")] = 37,
    assistants: Annotated[int, typer.Option(min=1, help="Assistants nominated (spread over the municipalities)")] = 50,
    cases: Annotated[int, typer.Option(min=0, help="Client cases arriving during the round")] = 200,
    years: Annotated[int, typer.Option(min=1, max=10, help="Length of the round")] = 2,
    seed: Annotated[int, typer.Option(help="The same seed gives the same round")] = 2020,
    unit_rate: Annotated[str | None, typer.Option(help="EUR per compensable hour (HRS-4; default the setting)")] = None,
    visits_per_month: Annotated[int, typer.Option(min=1, max=20, help="Visit days (4-8 h) a case a month")] = 1,
    in_flight: Annotated[int, typer.Option(min=0, help="API requests at once; 0: no limit")] = 0,
    worker_processes: Annotated[int, typer.Option(
        min=0, max=8, help="Processes for the workflows and activities (a core each); 0: in the API's")] = 1,
    setting: Annotated[list[str] | None, typer.Option(help="Any other setting, NAME=VALUE (e.g. yearly_hour_cap=1500)")
                       ] = None,
) -> None:
    """A what-if: a whole pilot round on Temporal's time-skipping server, through the API; prints its figures.

    The real workflows and activities run against a fresh database in a temporary directory;
    nothing touches the running service. Needs the extras `simulate` (or `dev`).
    """
    import asyncio

    from famassist.settings import Settings
    from famassist.simulation import Options, quiet_logs
    from famassist.simulation import simulate as run_round

    overrides: dict[str, object] = {}
    for item in setting or []:
        name, _, value = item.partition("=")
        if name not in Settings.model_fields or not value:
            typer.echo(f"not a setting: {item!r} (NAME=VALUE, NAME as in famassist/settings.py)", err=True)
            raise typer.Exit(2)
        overrides[name] = value
    if unit_rate is not None:
        overrides["unit_rate_eur"] = unit_rate
    options = Options(municipalities=municipalities, assistants=assistants, cases=cases, years=years, seed=seed,
                      visits_per_month=visits_per_month, in_flight=in_flight, worker_processes=worker_processes,
                      settings=overrides)
    quiet_logs()
    try:
        figures = asyncio.run(run_round(options))
    except (ImportError, FileNotFoundError) as missing:  # the test server or time-machine
        typer.echo(f"{missing}: install the simulation's extras (pip install -e '.[simulate]')", err=True)
        raise typer.Exit(1) from None
    for line in figures.lines():
        typer.echo(line)
    for answer in figures.unexpected[:20]:
        typer.echo(f"unexpected: {answer}", err=True)
    raise typer.Exit(1 if figures.unexpected else 0)


@app.command("payload-key")
def payload_key(
    key_id: Annotated[str, typer.Option("--id", help="The new key's id, e.g. 2026-12 (letters, digits, . _ -)")],
) -> None:
    """Print a new payload encryption key, `<id>:<base64>` (CASE-6; README, Encryption keys).

    Put it first in FAMASSIST_PAYLOAD_KEYS (it then encrypts) and keep the older keys after it.
    """
    from famassist.codec import PayloadKeyError, new_key_line

    try:
        typer.echo(new_key_line(key_id))
    except PayloadKeyError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
