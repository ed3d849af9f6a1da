"""The run as plain functions: staged kinds, batches, stages, validation, summary and cache.

Nothing here imports Prefect, so a stage runs the same in a test, a thread or a worker
process; ``tasks.prefect_tasks`` wraps these functions as tasks.
"""
