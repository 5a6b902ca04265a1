"""The `softquery` console script: it starts the job forkserver for `train` and `predict`
(``softquery.cli.early_start``) before it imports the commands (``softquery.cli.main``)."""

from __future__ import annotations

import sys

from softquery.cli.early_start import start_ahead


def main() -> None:
    start_ahead(sys.argv[1:])
    from softquery.cli.main import main as run

    run()
