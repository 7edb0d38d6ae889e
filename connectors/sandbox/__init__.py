"""Sandbox node systems: small real servers speaking each protocol, for the demo and tests.

Fakes live only here, at the edge of third-party systems; the hub's own
PostgreSQL and Kafka are always real.
"""
