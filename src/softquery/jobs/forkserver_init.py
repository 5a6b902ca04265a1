"""Imported by the forkserver at its start (see ``launch.FORKSERVER_PRELOAD``): the
forkserver holds what passes through it to job children, so a child that stays the
server's user must not be able to read it through /proc either."""

from softquery.jobs.isolation import refuse_tracing

refuse_tracing()
