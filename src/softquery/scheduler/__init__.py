"""The scheduler process: a loop that calls the use case ``tick(now)``
(``softquery.services.scheduled_runs``), which only enqueues due runs."""
