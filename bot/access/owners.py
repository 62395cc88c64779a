"""Digests and alert rules belong to the channel they post in: asked from a limited channel,
another channel's do not exist, so by-id actions answer as for an unknown id (not even the id
is confirmed) and change nothing. The digest and alert services both ask `hidden_from`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from storage.access import visibility_of


def hidden_from(session: Session, viewer: str | None, owner: str) -> bool:
    """Whether `viewer`, the channel asking (None: the CLI, an operator's tool that sees
    everything), must not know of a digest or rule that lives in channel `owner`."""
    if viewer is None or viewer == owner:
        return False
    return visibility_of(session, viewer).limited
