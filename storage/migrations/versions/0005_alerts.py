"""Alert rules, their per-campaign status and their history (posts go through `deliveries`).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alert_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("scope_kind", sa.String(16), nullable=False),
        sa.Column("scope_values", sa.Text(), nullable=False),
        sa.Column("kpi", sa.String(32), nullable=False),
        sa.Column("condition", sa.String(16), nullable=False),
        sa.Column("op", sa.String(2), nullable=True),
        sa.Column("value", sa.String(40), nullable=True),
        sa.Column("direction", sa.String(8), nullable=True),
        sa.Column("amount", sa.String(40), nullable=True),
        sa.Column("unit", sa.String(4), nullable=True),
        sa.Column("baseline", sa.String(32), nullable=True),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("for_days", sa.Integer(), nullable=False),
        sa.Column("min_spend", sa.String(40), nullable=True),
        sa.Column("min_clicks", sa.Integer(), nullable=True),
        sa.Column("notify", sa.String(32), nullable=True),
        sa.Column("paused", sa.Boolean(), nullable=False),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("no_data_since", sa.Date(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alert_rules"),
    )
    op.create_table(
        "alert_statuses",
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=True),
        sa.Column("incident", sa.Integer(), nullable=False),
        sa.Column("open_incident", sa.Boolean(), nullable=False),
        sa.Column("incident_day", sa.Date(), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(32), nullable=True),
        sa.Column("ts", sa.String(32), nullable=True),
        sa.Column("acknowledged_by", sa.String(32), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("snoozed_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("muted", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name="fk_alert_statuses_rule_id_alert_rules",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("rule_id", "campaign_id", name="pk_alert_statuses"),
    )
    op.create_table(
        "alert_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.String(64), nullable=True),
        sa.Column("baseline", sa.String(64), nullable=True),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("by_user", sa.String(32), nullable=True),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["alert_rules.id"],
            name="fk_alert_events_rule_id_alert_rules",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alert_events"),
        sa.UniqueConstraint("rule_id", "campaign_id", "day", "event", name="uq_alert_events_rule_id"),
    )
    op.create_index("ix_alert_events_rule_at", "alert_events", ["rule_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_alert_events_rule_at", table_name="alert_events")
    op.drop_table("alert_events")
    op.drop_table("alert_statuses")
    op.drop_table("alert_rules")
