"""Runs the CLI: ``python -m infra.kafka --help``."""

import sys

from infra.kafka.cli import main

sys.exit(main())
