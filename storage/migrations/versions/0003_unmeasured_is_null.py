"""Unmeasured is not zero: measures a source does not report may be NULL (spend stays required).

Existing rows keep their values: what was stored as 0 before cannot be told apart from a real 0.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NULLABLE = ["impressions", "clicks", "leads", "conversions", "new_customers", "revenue_micros"]


def upgrade() -> None:
    with op.batch_alter_table("daily_metrics") as batch:
        for column in NULLABLE:
            batch.alter_column(column, existing_type=sa.BigInteger(), nullable=True)


def downgrade() -> None:
    # Unknown becomes 0 again: the only value the old schema could hold.
    for column in NULLABLE:
        op.execute(f"UPDATE daily_metrics SET {column} = 0 WHERE {column} IS NULL")
    with op.batch_alter_table("daily_metrics") as batch:
        for column in NULLABLE:
            batch.alter_column(column, existing_type=sa.BigInteger(), nullable=False)
