"""A remote CSV (native or Fivetran format, e.g. a warehouse export) fetched over HTTP(S) to a
file, then imported exactly like `kpibot import` would import it."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import requests

from bot.sources.http import HttpPolicy, call, make_session, read_secrets, scrub
from bot.sources.model import SourceConfig, SourceError

CHUNK_BYTES = 1 << 16
MAX_BYTES = 4 << 30  # 4 GiB: far beyond any campaign-day export, a guard against a runaway URL


def auth_header(config: SourceConfig, env: Mapping[str, str]) -> dict[str, str]:
    """The optional header from the variable named by --header-env: `Name: value`, or a bare
    value, which is sent as `Authorization`."""
    if "header" not in config.secret_envs:
        return {}
    value = read_secrets(config, env)["header"]
    name, colon, rest = value.partition(":")
    if colon and name.strip() and " " not in name.strip():
        return {name.strip(): rest.strip()}
    return {"Authorization": value}


def download(
    config: SourceConfig,
    env: Mapping[str, str],
    policy: HttpPolicy,
    target: Path,
    *,
    session: requests.Session | None = None,
) -> int:
    """Fetch the source's URL into `target`; how many bytes. SourceError in plain words."""
    url = config.options["url"]
    headers = auth_header(config, env)
    secrets = list(headers.values())
    what = f"source {config.name!r}"
    session = session or make_session(policy)
    response = call(
        session, "GET", url, policy=policy, what=what, secrets=secrets, headers=headers, stream=True
    )
    with response:
        if response.status_code in (401, 403):
            raise SourceError(
                f"{what}: {url} refused the credentials (HTTP {response.status_code}); check "
                f"the header in {config.secret_envs.get('header', 'the --header-env variable')}",
                needs_new_token=True,
            )
        if response.status_code != 200:
            raise SourceError(
                f"{what}: {url} answered HTTP {response.status_code} "
                f"{scrub(response.reason or '', secrets)}",
                retryable=response.status_code >= 500 or response.status_code == 429,
            )
        written = 0
        try:
            with target.open("wb") as handle:
                for chunk in response.iter_content(CHUNK_BYTES):
                    written += len(chunk)
                    if written > MAX_BYTES:
                        raise SourceError(f"{what}: {url} is larger than {MAX_BYTES >> 30} GiB")
                    handle.write(chunk)
        except requests.exceptions.RequestException as exc:
            raise SourceError(
                f"{what}: the download from {url} broke off after {written:,} bytes "
                f"({type(exc).__name__}); nothing was imported",
                retryable=True,
            ) from None
    return written
