"""`softquery serve` (web/API + job slots + scheduler) and `softquery worker` (RQ)."""

from __future__ import annotations

import socket
from typing import Any

import click

from softquery.cli.command_access import Access, declare, operator_for
from softquery.cli.home_securing import secure_home_on_start
from softquery.cli.server_urls import login_link, server_url
from softquery.config import Settings
from softquery.jobs.executor import Executor
from softquery.services.accounts import first_start_link
from softquery.services.context import ServiceContext, open_context
from softquery.services.home import check_serving_secret
from softquery.services.interrupted_writes import recover_in_background
from softquery.services.runs import queue_executor
from softquery.services.sandbox_policy import end_leftovers, isolation_probe
from softquery.services.server_address import forget, record


@declare(Access.SERVER, "serves others: each request acts for its own login or token, the scheduler as "
                        "system:scheduler; the first-start login link is made as the local operator")
@click.command("serve")
@click.option("--host", help="Address to listen on (default: SOFTQUERY_HOST, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: SOFTQUERY_PORT, 8765; 0 picks a free one).")
@click.option("--slots", type=int, help="Job slots of the local executor (default: SOFTQUERY_JOB_SLOTS).")
@click.option("--no-scheduler", is_flag=True, help="Do not run the schedule loop in this server.")
@click.pass_obj
def serve_cmd(settings: Settings, host: str | None, port: int | None, slots: int | None,
              no_scheduler: bool) -> None:
    """Run the web app and REST API, the job slots and the scheduler.

    Everyone but health checks and the login page must log in (web) or send an API token
    (`Authorization: Bearer …`). Until someone has logged in, each start prints a one-time
    login link for an admin. Listening beyond this machine (any --host but 127.0.0.1, ::1
    or localhost) needs a real secret key, not a development one.
    """
    import uvicorn

    from softquery.jobs.local import LocalExecutor
    from softquery.server import create_app, missing_browser_files
    from softquery.services.run_supervision import run_work

    host = host or settings.host
    secure_home_on_start(settings)
    check_serving_secret(settings, host)
    end_leftovers()  # what a killed server or worker left on this host: job processes, cgroups, folders
    operator = operator_for(click.get_current_context().command)
    ctx = open_context(settings)
    recover_in_background(lambda: open_context(settings))  # writes a killed process left unfinished
    executor: Executor | None = queue_executor(settings)
    local: LocalExecutor[ServiceContext] | None = None
    if executor is None:
        local = LocalExecutor(run_work(settings), slots or settings.job_slots)
        local.start()
        executor = local
    scheduler = None
    if not no_scheduler:
        from softquery.scheduler.loop import SchedulerLoop

        scheduler = SchedulerLoop(lambda: open_context(settings), executor.submit)
        scheduler.start()
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, settings.port if port is None else port))
    sock.listen(2048)  # accept connections (queued) from the moment the URL is printed
    app = create_app(ctx, executor)
    bound_port = sock.getsockname()[1]
    link = first_start_link(ctx.acting_as(operator))  # until someone has logged in
    warn_missing_browser_files(missing_browser_files())
    click.echo(f"Model code runs isolated: {isolation_probe(settings, ctx)}")
    click.echo(f"softquery is serving at {server_url(host, bound_port)}/ "
               f"(executor: {executor.name}, scheduler: {'on' if scheduler else 'off'})", err=False)
    if link is not None:
        click.echo(f"Log in (one-time link, valid {settings.login_link_hours:g} h): "
                   f"{login_link(settings, link, host, bound_port)}")
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **_fast_http()))
    record(settings.home, server_url(host, bound_port))  # the address `user add` links to
    try:
        server.run(sockets=[sock])
    finally:
        forget(settings.home)
        app.state.online.close()  # the app's shutdown stopped the serving workers; this catches an aborted start
        if scheduler is not None:
            scheduler.stop()
        if local is not None:
            local.stop()
        ctx.close()


def warn_missing_browser_files(missing: list[str]) -> None:
    """Say on stderr, loudly, when the pages' browser libraries are not installed."""
    if not missing:
        return
    shown = "\n".join(f"  {url}" for url in missing[:8]) + (f"\n  … and {len(missing) - 8} more"
                                                            if len(missing) > 8 else "")
    click.echo(click.style("WARNING: the web pages' browser libraries are missing", fg="red", bold=True)
               + f" ({len(missing)} files, served as 404):\n{shown}\n"
               "Without them pages do not update by themselves (htmx), the code editors are plain text "
               "boxes (CodeMirror) and charts are empty (Chart.js). Install softquery from a wheel "
               "(`python -m build` puts them in), or in a source checkout run "
               "`bash scripts/build-assets.sh` (needs npm).", err=True)


def _fast_http() -> dict[str, Any]:
    """httptools' HTTP parser and the uvloop event loop when installed (both are
    pinned dependencies; uvicorn's pure-Python fallbacks are markedly slower)."""
    import importlib.util

    options: dict[str, Any] = {}
    if importlib.util.find_spec("httptools") is not None:
        options["http"] = "httptools"
    if importlib.util.find_spec("uvloop") is not None:
        options["loop"] = "uvloop"
    return options


@declare(Access.SERVER, "runs queued jobs; each run was authorised when it was submitted")
@click.command("worker")
@click.option("--burst", is_flag=True, help="Quit when the queue is empty.")
@click.pass_obj
def worker_cmd(settings: Settings, burst: bool) -> None:
    """Execute runs from the Redis queue (needs SOFTQUERY_QUEUE and a shared metadata DB)."""
    from softquery.jobs.rq_queue import run_worker
    from softquery.services.run_supervision import run_work

    secure_home_on_start(settings)
    open_context(settings).close()
    recover_in_background(lambda: open_context(settings))  # writes a killed process left unfinished
    run_worker(settings, run_work(settings), burst=burst)


def register(cli: click.Group) -> None:
    cli.add_command(serve_cmd)
    cli.add_command(worker_cmd)
