"""Fractional conversions: leads, conversions and new customers in micro-units.

Google Ads and Meta report conversions as decimals (data-driven attribution credits 2.5), so
the three counts a conversion can be split into are stored exactly as fixed-point integers,
like money: `conversions_micros = conversions * 10^6`. Existing rows are converted in place;
unknown (NULL) stays unknown. The covering index is rebuilt over the renamed columns.

Downgrade rounds to whole counts (half up): the only values the old schema could hold.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

SCALE = 1_000_000
RENAMED = {"leads": "leads_micros", "conversions": "conversions_micros"}
RENAMED["new_customers"] = "new_customers_micros"
INDEX = "ix_daily_metrics_day_covering"


def _index_columns(names: dict[str, str]) -> list[str]:
    counts = [names.get(m, m) for m in ("leads", "conversions", "new_customers")]
    return ["day", "campaign_id", "impressions", "clicks", *counts, "spend_micros", "revenue_micros"]


def upgrade() -> None:
    op.drop_index(INDEX, table_name="daily_metrics")
    with op.batch_alter_table("daily_metrics") as batch:
        for old, new in RENAMED.items():
            batch.alter_column(old, new_column_name=new, existing_type=sa.BigInteger())
    assignments = ", ".join(f"{new} = {new} * {SCALE}" for new in RENAMED.values())
    op.execute(f"UPDATE daily_metrics SET {assignments}")  # noqa: S608 (constant names)
    op.create_index(INDEX, "daily_metrics", _index_columns(RENAMED))


def downgrade() -> None:
    op.drop_index(INDEX, table_name="daily_metrics")
    half = SCALE // 2
    assignments = ", ".join(f"{new} = ({new} + {half}) / {SCALE}" for new in RENAMED.values())
    op.execute(f"UPDATE daily_metrics SET {assignments}")  # noqa: S608 (constant names)
    with op.batch_alter_table("daily_metrics") as batch:
        for old, new in RENAMED.items():
            batch.alter_column(new, new_column_name=old, existing_type=sa.BigInteger())
    op.create_index(INDEX, "daily_metrics", _index_columns({}))
