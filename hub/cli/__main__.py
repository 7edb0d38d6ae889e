"""``python -m hub.cli``: the same as the ``sp4n-hub`` script."""

import sys

from hub.cli.main import main

sys.exit(main())
