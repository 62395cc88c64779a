"""Scheduling: APScheduler triggers that wake the digest ledger, in the processes that post.

The triggers are never the guarantee, the delivery ledger is: every job calls the same
`DigestService.run_due(now)`, which posts each due digest once however often it is called.
"""

from bot.scheduling.runner import DigestScheduler, run_until_signalled

__all__ = ["DigestScheduler", "run_until_signalled"]
