"""Work on worker processes: syncs, queued batches, rebuilds and re-enrichment as jobs
on procrastinate, a task queue kept in the service's own PostgreSQL (`LP_QUEUE=procrastinate`).

The queue adds no infrastructure: the production store is the only one. SQLite
deployments keep running every job in the process that starts it.
"""
