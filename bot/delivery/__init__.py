"""Posting to Slack exactly once, for digests and alerts: the ledger's rules, no Slack here."""
