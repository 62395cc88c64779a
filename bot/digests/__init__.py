"""Morning digests: schedules, content, delivery."""
