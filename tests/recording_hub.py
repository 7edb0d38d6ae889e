"""``sp4n-hub serve`` with every node's sink a recording double, as a process.

For tests that run the hub as its own process and check that every node involved
settled every event (``sink_inbox``) without node systems to write to: with
connectors off the hub serves no node sinks at all. Run as
``python -m tests.recording_hub``, configured from the environment like ``serve``.
"""

from __future__ import annotations

import logging
import os

import uvicorn

from hub.app import create_app
from hub.settings import Settings
from tests.doubles import recording_sinks


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    settings = Settings.from_env(os.environ)
    app = create_app(settings, sinks=recording_sinks())
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", lifespan="on")


if __name__ == "__main__":
    main()
