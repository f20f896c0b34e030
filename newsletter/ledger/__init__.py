"""The delivery ledger: one row per (digest, reader), and the only code that writes it.

Every change of a delivery row's state, and of a digest's delivery status, is one of these
transitions (docs/delivery.md draws the state machine and the commit points C0 to C3):

  plan              C0   planned → sending; a row per reader, `pending` (or `skipped`)   plan.py
  claim             C1   pending/deferred → sending, under a fresh lease                 sending.py
  hand_over         C2   the handoff marker: from here a lost reply is `uncertain`       sending.py
  record            C3   sending → sent/failed/deferred/expired/uncertain/skipped/pending sending.py
  settle            C3 of one group + C2 of the next, in one commit                     sending.py
  release                sending, never handed over → pending (attempt returned)         sending.py
  postpone               sending, never handed over → deferred (the send rate; attempt returned)
  reopen                 failed by the relay's fault → pending                           sending.py
  cancel_leftovers       pending rows of a cancelled digest → cancelled                  sending.py
  pause/resume/cancel    a digest's status, and its rows not yet handed over             digest.py
  release_scheduled      a scheduled edition come due: released once, for its plan      digest.py
  release_early          a scheduled edition an editor sends now, before its time        digest.py
  finish_if_done         sending → finished when no row is open; its tally   digest.py, tally.py
  send_uncertain_again / settle_uncertain: a person's decision on uncertain rows         digest.py
  send_failed_again      failed → pending, a person's decision once the cause is fixed digest.py
  reclaim / release_owners: a dead sender's rows (lease expired / process gone)          recovery.py
  expire_deferred        deferred past the maximum age → expired                         recovery.py
  cancel_for_readers / forget_readers: a reader who leaves, a reader erased             readers.py

One rule for `attempts`: it counts the times a row was handed to the relay. A claim counts one;
every way a claimed row goes back without its handoff (release, pause, a dead worker, an
expired lease) gives it back.
"""

from newsletter.ledger.digest import (
    cancel,
    finish_if_done,
    pause,
    release_early,
    release_scheduled,
    resume,
    send_failed_again,
    send_uncertain_again,
    settle_uncertain,
)
from newsletter.ledger.plan import plan
from newsletter.ledger.readers import cancel_for_readers, forget_readers
from newsletter.ledger.reads import digest_progress, digest_state, next_due
from newsletter.ledger.recovery import Recovered, expire_deferred, reclaim, release_owners
from newsletter.ledger.rows import Batch, Claimed, Result, id_array
from newsletter.ledger.sending import (
    cancel_leftovers,
    claim,
    hand_over,
    postpone,
    record,
    release,
    reopen,
    settle,
)
from newsletter.ledger.tally import UNRECORDED, sent_sections, state_counts

__all__ = [
    "UNRECORDED",
    "Batch",
    "Claimed",
    "Recovered",
    "Result",
    "cancel",
    "cancel_for_readers",
    "cancel_leftovers",
    "claim",
    "digest_progress",
    "digest_state",
    "expire_deferred",
    "finish_if_done",
    "forget_readers",
    "hand_over",
    "id_array",
    "next_due",
    "pause",
    "plan",
    "postpone",
    "reclaim",
    "record",
    "release",
    "release_early",
    "release_scheduled",
    "release_owners",
    "reopen",
    "resume",
    "send_failed_again",
    "send_uncertain_again",
    "sent_sections",
    "settle",
    "settle_uncertain",
    "state_counts",
]
