"""The broker's jars: resolved once with Maven from Maven Central, then cached.

``fetch_jars`` runs ``mvn dependency:copy-dependencies`` on the ``pom.xml``
beside this file and copies the jars into a cache folder. A stamp file written
last records the pom's hash and every jar with its size, so an interrupted or
outdated download is noticed and redone, and a complete cache costs nothing.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
from pathlib import Path

from infra.kafka.errors import KafkaInfraError
from infra.kafka.paths import default_lib_dir

POM = Path(__file__).with_name("pom.xml")
STAMP_NAME = ".complete.json"
MAVEN_TIMEOUT_S = 900.0


def _pom_hash() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def _maven_log(lib_dir: Path) -> Path:
    return lib_dir.with_name(lib_dir.name + ".maven.log")


def jars_ready(lib_dir: Path) -> bool:
    """Whether ``lib_dir`` holds every jar of the current ``pom.xml``."""
    try:
        stamp = json.loads((lib_dir / STAMP_NAME).read_text())
        if stamp["pom_sha256"] != _pom_hash():
            return False
        jars: dict[str, int] = stamp["jars"]
        return bool(jars) and all(
            (lib_dir / name).is_file() and (lib_dir / name).stat().st_size == size
            for name, size in jars.items()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def fetch_jars(lib_dir: Path | None = None, *, force: bool = False) -> Path:
    """Makes sure the jar cache is complete and returns its folder.

    Runs Maven only when the cache is missing, incomplete or made from another
    ``pom.xml`` (or when ``force``). Maven's output goes to
    ``<lib_dir>.maven.log``. Several processes may call this at once: a lock
    file lets one of them download while the others wait.
    """
    lib_dir = (lib_dir or default_lib_dir()).resolve()
    if not force and jars_ready(lib_dir):
        return lib_dir
    lib_dir.parent.mkdir(parents=True, exist_ok=True)
    with (lib_dir.parent / (lib_dir.name + ".lock")).open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # Another process may have finished the download while we waited.
        if force or not jars_ready(lib_dir):
            _download(lib_dir)
    return lib_dir


def _download(lib_dir: Path) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise KafkaInfraError(
            "Maven (mvn) is not on PATH; it is needed once to fetch the Kafka jars "
            "(Debian: apt-get install maven)"
        )
    # Maven works on a copy of the pom in a staging folder, so a half-done copy
    # never sits in lib_dir and the source tree gets no target/ folder.
    staging = lib_dir.with_name(lib_dir.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    jars_out = staging / "jars"
    jars_out.mkdir(parents=True)
    shutil.copyfile(POM, staging / "pom.xml")
    log = _maven_log(lib_dir)
    # -U: Maven otherwise remembers a failed download in ~/.m2 and refuses to
    # retry it for a day, so one network hiccup would stick.
    command = [
        mvn,
        "-q",
        "-B",
        "-U",
        "-Dstyle.color=never",
        "-f",
        str(staging / "pom.xml"),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={jars_out}",
        "-DincludeScope=runtime",
    ]
    with log.open("w") as out:
        out.write("$ " + " ".join(command) + "\n")
        out.flush()
        try:
            result = subprocess.run(
                command,
                cwd=staging,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                check=False,
                timeout=MAVEN_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise KafkaInfraError(
                f"Maven did not finish within {MAVEN_TIMEOUT_S:.0f} s; see {log}"
            ) from None
    jars = {p.name: p.stat().st_size for p in jars_out.glob("*.jar")}
    if result.returncode != 0 or not jars:
        shutil.rmtree(staging, ignore_errors=True)
        # Maven's console library writes colour resets even in batch mode.
        text = re.sub(r"\x1b\[[0-9;]*m", "", log.read_text(errors="replace"))
        tail = "\n".join(text.splitlines()[-20:])
        raise KafkaInfraError(
            f"Maven could not fetch the Kafka jars (exit {result.returncode}); "
            f"full log: {log}\n{tail}"
        )
    shutil.rmtree(lib_dir, ignore_errors=True)
    jars_out.rename(lib_dir)
    shutil.rmtree(staging, ignore_errors=True)
    # Written last: its presence means every jar before it landed.
    stamp = {"pom_sha256": _pom_hash(), "jars": dict(sorted(jars.items()))}
    (lib_dir / STAMP_NAME).write_text(json.dumps(stamp, indent=1) + "\n")
