"""``python -m infra.kafka``: fetch the jars, start/stop a detached broker, show its status.

``start`` prints ``KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:NNNN`` on stdout and
nothing else there, so a Makefile or CI step can ``eval`` it or append it to
an env file; everything meant for people goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from infra.kafka.broker import KafkaBroker
from infra.kafka.config import HOST
from infra.kafka.errors import KafkaInfraError
from infra.kafka.jars import fetch_jars
from infra.kafka.paths import default_broker_dir, default_lib_dir
from infra.kafka.probe import cluster_info
from infra.kafka.process import pid_alive, pid_command_line, stop_pid

STATE_NAME = "state.json"


@dataclass(frozen=True)
class State:
    """What ``start`` leaves in the broker folder for ``stop`` and ``status``."""

    pid: int
    bootstrap_servers: str
    started_at: str
    log_file: str


def _read_state(work_dir: Path) -> State | None:
    try:
        return State(**json.loads((work_dir / STATE_NAME).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def _running(work_dir: Path) -> State | None:
    """The recorded broker, if its process is still this folder's Kafka."""
    state = _read_state(work_dir)
    if state is None or not pid_alive(state.pid):
        return None
    # Guards against a recycled pid: the process must be kafka.Kafka on our config.
    argv = pid_command_line(state.pid)
    if "kafka.Kafka" not in argv or str(work_dir / "server.properties") not in argv:
        return None
    return state


def _say(message: str) -> None:
    print(message, file=sys.stderr)


def _fetch(args: argparse.Namespace) -> int:
    lib_dir = fetch_jars(args.lib, force=args.force)
    _say(f"Kafka jars ready in {lib_dir} ({len(list(lib_dir.glob('*.jar')))} jars)")
    return 0


def _start(args: argparse.Namespace) -> int:
    work_dir: Path = args.dir.resolve()
    state = _running(work_dir)
    if state is not None:
        _say(f"Kafka is already running (pid {state.pid}); log: {state.log_file}")
    else:
        broker = KafkaBroker(work_dir, lib_dir=args.lib, startup_timeout=args.timeout)
        bootstrap = broker.start()
        state = State(
            pid=broker.detach(),
            bootstrap_servers=bootstrap,
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            log_file=str(broker.log_file),
        )
        (work_dir / STATE_NAME).write_text(json.dumps(asdict(state), indent=1) + "\n")
        _say(f"Kafka started (pid {state.pid}); log: {state.log_file}")
    print(f"KAFKA_BOOTSTRAP_SERVERS={state.bootstrap_servers}")
    return 0


def _stop(args: argparse.Namespace) -> int:
    work_dir: Path = args.dir.resolve()
    state = _running(work_dir)
    if state is None:
        _say("Kafka is not running")
    else:
        stop_pid(state.pid, args.timeout)
        _say(f"Kafka stopped (pid {state.pid}); data kept in {work_dir}")
    (work_dir / STATE_NAME).unlink(missing_ok=True)
    return 0


def _status(args: argparse.Namespace) -> int:
    work_dir: Path = args.dir.resolve()
    state = _running(work_dir)
    if state is None:
        _say(f"Kafka is not running (folder {work_dir})")
        return 1
    port = int(state.bootstrap_servers.rsplit(":", 1)[1])
    try:
        info = cluster_info(HOST, port)
        health = f"answering, cluster {info.cluster_id}"
    except OSError as exc:
        health = f"NOT answering ({exc})"
    _say(f"Kafka is running (pid {state.pid}, {health}); log: {state.log_file}")
    print(f"KAFKA_BOOTSTRAP_SERVERS={state.bootstrap_servers}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m infra.kafka",
        description="A real single-node Apache Kafka on 127.0.0.1 for development and tests.",
    )
    parser.add_argument(
        "--lib",
        type=Path,
        default=None,
        help=f"jar cache folder (default: $SP4N_KAFKA_LIB or {default_lib_dir()})",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    fetch = commands.add_parser("fetch", help="resolve the Kafka jars with Maven (once)")
    fetch.add_argument("--force", action="store_true", help="download again even if cached")
    fetch.set_defaults(run=_fetch)

    dir_help = f"broker folder: config, data, log (default: {default_broker_dir()})"
    start = commands.add_parser("start", help="start a detached broker, print its address")
    start.add_argument("--dir", type=Path, default=default_broker_dir(), help=dir_help)
    start.add_argument("--timeout", type=float, default=90.0, help="seconds to wait (90)")
    start.set_defaults(run=_start)

    stop = commands.add_parser("stop", help="stop the detached broker (its data is kept)")
    stop.add_argument("--dir", type=Path, default=default_broker_dir(), help=dir_help)
    stop.add_argument(
        "--timeout", type=float, default=30.0, help="seconds before SIGTERM becomes SIGKILL (30)"
    )
    stop.set_defaults(run=_stop)

    status = commands.add_parser("status", help="exit 0 and print the address if running")
    status.add_argument("--dir", type=Path, default=default_broker_dir(), help=dir_help)
    status.set_defaults(run=_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        code: int = args.run(args)
    except KafkaInfraError as exc:
        _say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130
    return code
