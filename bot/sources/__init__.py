"""Data sources kpibot pulls from on a schedule: Meta Ads, Google Ads and remote CSV files."""
