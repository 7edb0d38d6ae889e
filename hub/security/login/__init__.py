"""The login and logout pages people use, with their own stylesheet (no CDN)."""
