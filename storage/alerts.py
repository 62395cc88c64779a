"""Alert rules, the status of each (rule, campaign) and the alert history.

A transition is applied by one process only: its history row (unique per rule, campaign,
evaluated day and event) and its status change (a compare-and-set on `version`) are written in
one transaction, and the process whose transaction lands is the one that claims the post in the
delivery ledger. No advisory locks; any number of evaluators may run.
"""

from __future__ import annotations

import json
from collections.abc import Collection
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, delete, or_, select, update
from sqlalchemy.orm import Session

from bot.alerts.lifecycle import AlertState
from bot.alerts.model import CampaignStatus, HistoryEntry, StoredRule
from bot.alerts.rules import AlertRule, Baseline, Change, Direction, Threshold, describe
from bot.query import ScopeSpec
from storage.deliveries import upsert_insert, utc
from storage.models import AlertEvent, AlertStatus, Campaign
from storage.models import AlertRule as AlertRuleRow
from storage.write_lock import begin_write

# ---------------------------------------------------------------------- rules


def _text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def _decimal(text: str | None) -> Decimal | None:
    return None if text is None else Decimal(text)


def _moment(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


def _rule(row: AlertRuleRow) -> StoredRule:
    cond: Threshold | Change
    if row.condition == "threshold":
        assert row.op is not None and row.value is not None
        cond = Threshold(row.op, Decimal(row.value))
    else:
        assert row.direction and row.amount and row.unit and row.baseline
        cond = Change(
            Direction(row.direction), Decimal(row.amount), row.unit, Baseline(row.baseline)
        )
    values = tuple(str(v) for v in json.loads(row.scope_values or "[]"))
    rule = AlertRule(
        ScopeSpec(row.scope_kind, values),
        row.kpi,
        cond,
        row.window_days,
        row.for_days,
        _decimal(row.min_spend),
        row.min_clicks,
        row.notify,
    )
    return StoredRule(
        row.id,
        row.channel,
        rule,
        row.paused,
        row.created_by,
        utc(row.created_at),
        utc(row.updated_at),
        _moment(row.snoozed_until),
        row.last_error,
        row.no_data_since,
    )


def _rule_columns(rule: AlertRule) -> dict[str, Any]:
    cond = rule.condition
    columns: dict[str, Any] = {
        "text": describe(rule),
        "scope_kind": rule.scope.kind,
        "scope_values": json.dumps(list(rule.scope.values), ensure_ascii=False),
        "kpi": rule.kpi,
        "window_days": rule.window,
        "for_days": rule.for_days,
        "min_spend": _text(rule.min_spend),
        "min_clicks": rule.min_clicks,
        "notify": rule.notify,
    }
    if isinstance(cond, Threshold):
        columns.update(condition="threshold", op=cond.op, value=_text(cond.value))
    else:
        columns.update(
            condition="change",
            direction=cond.direction.value,
            amount=_text(cond.amount),
            unit=cond.unit,
            baseline=cond.baseline.value,
        )
    return columns


def add_rule(
    session: Session, *, channel: str, rule: AlertRule, created_by: str, now: datetime
) -> StoredRule:
    row = AlertRuleRow(
        channel=channel,
        paused=False,
        created_by=created_by,
        created_at=now,
        updated_at=now,
        **_rule_columns(rule),
    )
    session.add(row)
    session.flush()
    return _rule(row)


def get_rule(session: Session, rule_id: int) -> StoredRule | None:
    row = session.get(AlertRuleRow, rule_id)
    return None if row is None else _rule(row)


def list_rules(
    session: Session, channel: str | None = None, *, active: bool = False
) -> list[StoredRule]:
    statement = select(AlertRuleRow).order_by(AlertRuleRow.id)
    if channel is not None:
        statement = statement.where(AlertRuleRow.channel == channel)
    if active:
        statement = statement.where(AlertRuleRow.paused.is_(False))
    return [_rule(row) for row in session.scalars(statement)]


def update_rule(session: Session, rule_id: int, now: datetime, **values: Any) -> bool:
    """paused, snoozed_until, last_error or no_data_since; False when the rule is gone."""
    result = session.execute(
        update(AlertRuleRow).where(AlertRuleRow.id == rule_id).values(updated_at=now, **values)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def remove_rule(session: Session, rule_id: int) -> bool:
    # Explicit, not only ON DELETE CASCADE: SQLite enforces it only with foreign_keys on.
    session.execute(delete(AlertEvent).where(AlertEvent.rule_id == rule_id))
    session.execute(delete(AlertStatus).where(AlertStatus.rule_id == rule_id))
    result = session.execute(delete(AlertRuleRow).where(AlertRuleRow.id == rule_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]


# ---------------------------------------------------------------------- statuses

_STATUS_FIELDS = tuple(f.name for f in fields(CampaignStatus))


def _status(row: Any) -> CampaignStatus:
    values = dict(row._mapping)
    values["state"] = AlertState(values["state"])
    for name in ("notified_at", "acknowledged_at", "snoozed_until"):
        values[name] = _moment(values[name])
    return CampaignStatus(**values)


def statuses(
    session: Session, rule_ids: Collection[int] | None = None
) -> dict[tuple[int, int], CampaignStatus]:
    """Every stored status (no row is OK), of these rules or all."""
    statement = select(*(getattr(AlertStatus, name) for name in _STATUS_FIELDS))
    if rule_ids is not None:
        if not rule_ids:
            return {}
        statement = statement.where(AlertStatus.rule_id.in_(list(rule_ids)))
    return {(s.rule_id, s.campaign_id): s for s in map(_status, session.execute(statement))}


@dataclass(frozen=True, slots=True)
class EventRow:
    """A history row to write with a transition."""

    rule_id: int
    campaign_id: int
    day: date
    event: str
    state: str
    at: datetime
    value: str | None = None
    baseline: str | None = None
    explanation: str = ""
    by_user: str | None = None


def _status_values(status: CampaignStatus, now: datetime) -> dict[str, Any]:
    values = {name: getattr(status, name) for name in _STATUS_FIELDS}
    values["state"] = status.state.value
    values["updated_at"] = now
    return values


def _compare_and_set(
    connection: Connection, old: CampaignStatus, new: CampaignStatus, now: datetime
) -> bool:
    values = _status_values(new, now)
    values["version"] = old.version + 1
    if old.version == 0:
        inserted = connection.execute(
            upsert_insert(connection, AlertStatus)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["rule_id", "campaign_id"])
            .returning(AlertStatus.rule_id)
        ).first()
        return inserted is not None
    del values["rule_id"], values["campaign_id"]
    result = connection.execute(
        update(AlertStatus)
        .where(
            AlertStatus.rule_id == old.rule_id,
            AlertStatus.campaign_id == old.campaign_id,
            AlertStatus.version == old.version,
        )
        .values(**values)
    )
    return bool(result.rowcount == 1)


class _Lost(Exception):
    """Another process applied this transition (or changed the status) first."""


def apply(
    engine: Engine,
    old: CampaignStatus,
    new: CampaignStatus,
    event: EventRow | None,
    now: datetime,
) -> int | None:
    """Write the status change and its history row together, or neither.

    Returns the history row's id (0 when there is none); None when another process got there
    first — then this one posts nothing.
    """
    try:
        with engine.connect() as connection, begin_write(connection):
            event_id = 0
            if event is not None:
                inserted = _insert_event(connection, event)
                if inserted is None:
                    raise _Lost
                event_id = inserted
            if not _compare_and_set(connection, old, new, now):
                raise _Lost  # rolls the history row back with it
            return event_id
    except _Lost:
        return None


def _insert_event(connection: Connection, event: EventRow) -> int | None:
    """The history row, unless it exists (then None: another process wrote it)."""
    inserted = connection.execute(
        upsert_insert(connection, AlertEvent)
        .values(**{f.name: getattr(event, f.name) for f in fields(EventRow)})
        .on_conflict_do_nothing(index_elements=["rule_id", "campaign_id", "day", "event"])
        .returning(AlertEvent.id)
    ).first()
    return None if inserted is None else int(inserted[0])


def record_event(engine: Engine, event: EventRow) -> int | None:
    """A history row alone (e.g. a rule's no-data notice); None when it already exists."""
    with engine.connect() as connection, begin_write(connection):
        return _insert_event(connection, event)


def set_message(
    engine: Engine, rule_id: int, campaign_id: int, incident: int, channel: str, ts: str
) -> None:
    """Remember the incident's top-level message (for its thread and chat.update)."""
    with engine.connect() as connection, begin_write(connection):
        connection.execute(
            update(AlertStatus)
            .where(
                AlertStatus.rule_id == rule_id,
                AlertStatus.campaign_id == campaign_id,
                AlertStatus.incident == incident,
            )
            .values(channel=channel, ts=ts, version=AlertStatus.version + 1)
        )


# ---------------------------------------------------------------------- history


def _entry(row: Any, names: dict[int, str]) -> HistoryEntry:
    return HistoryEntry(
        row.id,
        row.rule_id,
        row.campaign_id,
        names.get(row.campaign_id),
        row.day,
        row.event,
        row.state,
        utc(row.at),
        row.value,
        row.baseline,
        row.explanation,
        row.by_user,
    )


def history(
    session: Session,
    rule_id: int | None = None,
    limit: int = 50,
    *,
    channel: str | None = None,
) -> list[HistoryEntry]:
    """The newest history rows first, of one rule, of one channel's rules, or of all."""
    statement = select(AlertEvent).order_by(AlertEvent.at.desc(), AlertEvent.id.desc())
    if rule_id is not None:
        statement = statement.where(AlertEvent.rule_id == rule_id)
    if channel is not None:
        mine = select(AlertRuleRow.id).where(AlertRuleRow.channel == channel)
        statement = statement.where(AlertEvent.rule_id.in_(mine))
    rows = list(session.scalars(statement.limit(limit)))
    return _with_names(session, rows)


def event(
    session: Session, rule_id: int, campaign_id: int, day: date, name: str
) -> HistoryEntry | None:
    row = session.scalars(
        select(AlertEvent).where(
            AlertEvent.rule_id == rule_id,
            AlertEvent.campaign_id == campaign_id,
            AlertEvent.day == day,
            AlertEvent.event == name,
        )
    ).first()
    return None if row is None else _with_names(session, [row])[0]


def resolved_at(session: Session, rule_id: int, campaign_id: int, incident: int) -> datetime | None:
    """When the incident resolved (its `resolve#N` row), None while it is open."""
    found = session.scalars(
        select(AlertEvent.at).where(
            AlertEvent.rule_id == rule_id,
            AlertEvent.campaign_id == campaign_id,
            AlertEvent.event == f"resolve#{incident}",
        )
    ).first()
    return None if found is None else utc(found)


def _with_names(session: Session, rows: list[AlertEvent]) -> list[HistoryEntry]:
    ids = {r.campaign_id for r in rows if r.campaign_id}
    names: dict[int, str] = {}
    if ids:
        found = session.execute(select(Campaign.id, Campaign.name).where(Campaign.id.in_(ids)))
        names = {row[0]: row[1] for row in found}
    return [_entry(r, names) for r in rows]


def unmute(engine: Engine, rule_id: int, now: datetime) -> None:
    """Every campaign of the rule alerts again (`alert resume`): mutes and incident snoozes
    (the Snooze buttons) are cleared."""
    with engine.connect() as connection, begin_write(connection):
        connection.execute(
            update(AlertStatus)
            .where(
                AlertStatus.rule_id == rule_id,
                or_(AlertStatus.muted.is_(True), AlertStatus.snoozed_until.is_not(None)),
            )
            .values(
                muted=False, snoozed_until=None, version=AlertStatus.version + 1, updated_at=now
            )
        )
