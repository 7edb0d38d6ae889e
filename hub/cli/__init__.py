"""The ``sp4n-hub`` command: ``main`` parses and dispatches; ``admin`` and ``calendar``
hold the administrative subcommands."""
