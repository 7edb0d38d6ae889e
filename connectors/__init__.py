"""Connectors to the nodes' own complaint systems (one module per protocol)."""
