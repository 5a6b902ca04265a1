"""`softquery scheduler`: the schedule loop alone, in the foreground."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

import click

from softquery.cli.command_access import Access, declare
from softquery.cli.home_securing import secure_home_on_start
from softquery.cli.printing import console, print_json
from softquery.config import Settings
from softquery.scheduler.loop import SchedulerLoop
from softquery.services.context import ServiceContext, open_context
from softquery.services.scheduled_runs import Submit


def _submitter(settings: Settings) -> Submit:
    """Where scheduled runs go: Redis/RQ when ``SOFTQUERY_QUEUE`` is set, else nowhere
    but the metadata DB -- the run row stays `queued`, which is the queue that the
    local executor of `softquery serve` polls."""
    from softquery.jobs.executor import DatabaseQueue
    from softquery.services.runs import queue_executor

    return (queue_executor(settings) or DatabaseQueue()).submit


@declare(Access.SERVER, "queues due scheduled runs acting as system:scheduler")
@click.command("scheduler")
@click.option("--interval", type=float, default=1.0, show_default=True,
              help="Seconds between two looks at the schedules.")
@click.option("--once", is_flag=True, help="Queue what is due now, print the run ids and exit.")
@click.pass_obj
def scheduler_cmd(settings: Settings, interval: float, once: bool) -> None:
    """Run the scheduler alone in the foreground (Ctrl-C stops it).

    It queues a run for each due slot of every model schedule; `softquery serve`
    runs the same scheduler inside the server. Any number may run at once: each
    slot is queued exactly once. The audit log names it system:scheduler.
    """

    def ctx_factory() -> ServiceContext:
        return open_context(settings)

    secure_home_on_start(settings)
    ctx_factory().close()  # a clear error now if the home is not initialised
    loop = SchedulerLoop(ctx_factory, _submitter(settings), interval=interval)
    if once:
        try:
            print_json(loop.run_once())
        finally:
            loop.stop()
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    stopping = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stopping.set()

    # Ctrl-C (SIGINT) and SIGTERM only set an event: the loop finishes its tick and stops.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    out = console()
    try:
        loop.start()
        out.print("Scheduler running; press Ctrl-C to stop.")
        while not stopping.wait(0.5):
            if not loop.is_alive():  # pragma: no cover - the loop survives errors
                break
    finally:
        loop.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    out.print("Scheduler stopped.")


def register(cli: click.Group) -> None:
    cli.add_command(scheduler_cmd)
