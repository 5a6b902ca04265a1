"""`softquery serve` (web/API + job slots + scheduler) and `softquery worker` (RQ)."""

from __future__ import annotations

import socket
from typing import Any

import click

from softquery.config import Settings
from softquery.jobs.executor import Executor, queue_executor
from softquery.services.context import open_context


@click.command("serve")
@click.option("--host", help="Address to listen on (default: SOFTQUERY_HOST, 127.0.0.1).")
@click.option("--port", type=int, help="Port (default: SOFTQUERY_PORT, 8765; 0 picks a free one).")
@click.option("--slots", type=int, help="Job slots of the local executor (default: SOFTQUERY_JOB_SLOTS).")
@click.option("--no-scheduler", is_flag=True, help="Do not run the schedule loop in this server.")
@click.pass_obj
def serve_cmd(settings: Settings, host: str | None, port: int | None, slots: int | None,
              no_scheduler: bool) -> None:
    """Run the web app and REST API, the job slots and the scheduler."""
    import uvicorn

    from softquery.api.app import create_app
    from softquery.jobs.local import LocalExecutor

    host = host or settings.host
    ctx = open_context(settings)
    executor: Executor | None = queue_executor(settings)
    local: LocalExecutor | None = None
    if executor is None:
        local = LocalExecutor(lambda: open_context(settings), slots or settings.job_slots)
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
    click.echo(f"softquery is serving at http://{host}:{bound_port}/ "
               f"(executor: {executor.name}, scheduler: {'on' if scheduler else 'off'})", err=False)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", **_fast_http()))
    try:
        server.run(sockets=[sock])
    finally:
        app.state.online.close()  # the app's shutdown stopped the serving workers; this catches an aborted start
        if scheduler is not None:
            scheduler.stop()
        if local is not None:
            local.stop()
        ctx.close()


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


@click.command("worker")
@click.option("--burst", is_flag=True, help="Quit when the queue is empty.")
@click.pass_obj
def worker_cmd(settings: Settings, burst: bool) -> None:
    """Execute runs from the Redis queue (needs SOFTQUERY_QUEUE and a shared metadata DB)."""
    from softquery.jobs.rq_queue import run_worker

    open_context(settings).close()
    run_worker(settings, burst=burst)


def register(cli: click.Group) -> None:
    cli.add_command(serve_cmd)
    cli.add_command(worker_cmd)
