"""Who may see what: guests and other organisations refused, channels limited to some campaigns."""
