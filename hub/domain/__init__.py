"""The write path: domain commands, validated and applied in one transaction."""
