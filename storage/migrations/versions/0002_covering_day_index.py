"""Covering index for all-campaign range sums.

Revision ID: 0002
Revises: 0001
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

MEASURES = [
    "impressions",
    "clicks",
    "leads",
    "conversions",
    "new_customers",
    "spend_micros",
    "revenue_micros",
]


def upgrade() -> None:
    op.create_index(
        "ix_daily_metrics_day_covering", "daily_metrics", ["day", "campaign_id", *MEASURES]
    )
    op.drop_index("ix_daily_metrics_day_campaign", table_name="daily_metrics")


def downgrade() -> None:
    op.create_index("ix_daily_metrics_day_campaign", "daily_metrics", ["day", "campaign_id"])
    op.drop_index("ix_daily_metrics_day_covering", table_name="daily_metrics")
