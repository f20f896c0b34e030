"""Delivery: the ledger of who got which digest, and the engine that sends it exactly once.

plan → drain (claim, send_batch) → reconcile; pause/resume/cancel; progress from the rows.
"""

from newsletter.delivery.ledger import digest_progress
from newsletter.delivery.plan import plan

__all__ = ["digest_progress", "plan"]
