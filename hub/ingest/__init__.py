"""Pulling from the nodes: each change as domain commands (``pull``), a node's first pull
planned in memory (``plan``) and copied in set-wise (``initial``)."""
