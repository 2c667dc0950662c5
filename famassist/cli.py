"""The ``famassist`` command."""

from __future__ import annotations

from typing import Annotated

import typer

from domain.roles import Role
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
    uvicorn.run("api.app:app_from_settings", factory=True, host=settings.api_host, port=settings.api_port,
                workers=workers)


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
