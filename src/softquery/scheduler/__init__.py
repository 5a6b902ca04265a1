"""Cron schedules of models: ``tick(now)`` only enqueues due runs; a loop calls it."""
