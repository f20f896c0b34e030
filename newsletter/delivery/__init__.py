"""Delivery: the ledger of who got which digest, and the engine that sends it exactly once.

plan_deliveries → drain (claim, send_batch) → reconcile; pause/resume/cancel; progress from
the rows. Depends on digests (the audience's window, the composer), never the reverse.
"""

from newsletter.delivery.plan_deliveries import plan_deliveries
from newsletter.ledger import digest_progress

__all__ = ["digest_progress", "plan_deliveries"]
