"""The Celery side's entry point (celery_app.py) and its periodic jobs (schedule.py).

The tasks live beside the stages they drive (newsletter/<stage>/tasks.py).
"""
