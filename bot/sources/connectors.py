"""From a source's configuration to the thing that fetches it, with the settings' base URLs
and HTTP limits; the platform modules are imported only when a source of theirs is used."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from bot.sources.http import Connector, Endpoints, HttpPolicy
from bot.sources.model import Kind, SourceConfig, SourceError


class Connections:
    """Connectors and downloads for every kind, sharing one set of endpoints and limits."""

    def __init__(
        self,
        endpoints: Endpoints,
        policy: HttpPolicy,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.endpoints = endpoints
        self.policy = policy
        self._env = env

    @property
    def env(self) -> Mapping[str, str]:
        return os.environ if self._env is None else self._env

    def connect(self, config: SourceConfig) -> Connector:
        if config.kind is Kind.META:
            from bot.sources import meta

            return meta.connect(config, self.env, self.endpoints, self.policy)
        if config.kind is Kind.GOOGLE_ADS:
            from bot.sources import google_ads

            return google_ads.connect(config, self.env, self.endpoints, self.policy)
        raise SourceError(f"source {config.name!r} is a {config.kind} source: it is downloaded")

    def download(self, config: SourceConfig, target: Path) -> int:
        from bot.sources.csv_url import download

        return download(config, self.env, self.policy, target)
