"""Webhooks after each audit: what is new, to each team's and security's webhook, exactly once."""
