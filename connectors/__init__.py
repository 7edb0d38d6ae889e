"""Connectors to the nodes' own complaint systems (one module per protocol).

The seams, by module (nothing is imported here, so importing the package has
no side effects):

- ``protocol``: the ``Connector`` Protocol (start/stop/ping, pull, apply,
  reconcile, fetch), ``ReportDirectory`` (what a connector asks the hub) and
  ``Dependencies``.
- ``change``: ``ExternalChange`` and ``ChangePage`` (what a pull yields),
  ``FetchResult`` (a live read), ``ReportContent``, ``NodeReport`` (a lookup).
- ``config``: the node table (``nodes.toml``) loaded and validated at start.
- ``registry``: the explicit ``kind -> factory`` registry; ``federation`` holds
  every node's connector.
- ``resilience``: the one layer of timeout, retry, circuit breaker and
  concurrency cap around every external call.
- one module per kind: ``open311``, ``rest``, ``graphql``, ``lapor``
  (contract in ``LAPOR.md``), ``postgres``, ``push``.
- ``sandbox``: real servers standing in for the 19 nodes, for the demo and tests.

Dependency direction: ``schema <- connectors <- hub``; nothing here imports the hub.
"""
