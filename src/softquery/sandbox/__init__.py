"""Starting, confining, limiting and talking to a child process that runs model code.

Imports nothing else of softquery. The parent side's one entry is ``Sandbox``
(``parent``); the child side's is ``child.child_main``, which ``Sandbox.start`` runs
in a fresh child of the forkserver (``forkserver``) before the caller's target.
Between them, one message protocol (``protocol``): job children, serving workers and
exports all use it. How the child is limited: ``limits`` (what it may use and reach),
``cgroups``, ``environment``; confined: ``namespaces`` (its own user, mounts, no
network), ``private_mounts``, ``pid_namespace``; what a killed server left behind:
``leftovers``.
"""

from softquery.sandbox.forkserver import prepare_forkserver, start_forkserver, stop_forkserver
from softquery.sandbox.leftovers import end_leftovers
from softquery.sandbox.limits import ExitInfo, Isolation, Limits, memory_error_message
from softquery.sandbox.parent import Sandbox, is_output
from softquery.sandbox.probe import probe

__all__ = [
    "ExitInfo", "Isolation", "Limits", "Sandbox", "end_leftovers", "is_output", "memory_error_message",
    "prepare_forkserver", "probe", "start_forkserver", "stop_forkserver",
]
