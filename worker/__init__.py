"""The Celery side: the worker's entry point, its periodic jobs and its tasks."""
