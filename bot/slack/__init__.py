"""The Slack side of kpibot: the Bolt app factory, delivery to Slack, runtimes."""
