"""Alerts: rules, their evaluation and their lifecycle."""
