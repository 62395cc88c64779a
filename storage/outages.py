"""A database kpibot cannot connect to, described in one line: where and why, no password."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import URL
from sqlalchemy.exc import DBAPIError

from storage.database import database_url, sqlite_path

POSTGRES_PORT = 5432
_MAX_REASON = 200


@dataclass(frozen=True, slots=True)
class Unreachable:
    """Where the database is (`host:port` or the SQLite path) and the driver's short reason."""

    where: str
    reason: str
    sqlite: bool


def unreachable(url: str | URL, error: BaseException) -> Unreachable | None:
    """What a failed connection says, or None when `error` is not a failure to connect.

    A driver error without a statement happened while connecting (refused, unknown host,
    timeout, bad password, a file that is not a database); one with a statement is a bug.
    """
    if not isinstance(error, DBAPIError) or error.statement is not None:
        return None
    parsed = database_url(url)
    reason = _short(str(error.orig), parsed.password)
    path = sqlite_path(parsed)
    if path is not None:
        return Unreachable(str(path), reason, sqlite=True)
    if parsed.get_backend_name() == "sqlite":
        return Unreachable("an in-memory database", reason, sqlite=True)
    return Unreachable(_host_port(parsed), reason, sqlite=False)


def _host_port(url: URL) -> str:
    host = url.host or url.query.get("host")
    if not host:
        return "the local PostgreSQL socket"
    return f"{host}:{url.port or POSTGRES_PORT}"


def _short(message: str, password: str | None) -> str:
    """'Connection refused' out of libpq's 'connection to server at …, port 1 failed: …'."""
    lines = message.strip().splitlines()
    first = lines[0] if lines else ""
    reason = " ".join(first.rpartition("failed: ")[2].split()) or "no reason given"
    if password:
        reason = reason.replace(password, "***")
    return reason if len(reason) <= _MAX_REASON else reason[: _MAX_REASON - 1] + "…"
