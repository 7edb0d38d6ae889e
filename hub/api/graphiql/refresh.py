"""Refreshes the GraphiQL assets the hub ships from the npm registry.

``python -m hub.api.graphiql.refresh`` fetches each pinned release with
``npm pack`` (so npm's own registry settings apply), checks the tarball against
the registry's integrity, copies the pinned files into
``static/`` and rewrites ``manifest.json``. The hub itself never fetches
anything: this is a maintainer's tool, run by hand after changing a pin below.
``--check`` downloads the same tarballs and only reports whether the shipped
files still match them.

The pins stay on the last releases with UMD builds (plain ``<script>`` tags,
no bundler): GraphiQL 4 deprecated them and GraphiQL 5 removed them; React 19
ships none, so React stays on 18.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
MANIFEST = HERE / "manifest.json"

REACT = "18.3.1"
GRAPHIQL = "4.1.2"
EXPLORER = "4.0.6"
ROBOTO_LICENCE_FROM = "0.10.0"
FIRA_CODE_LICENCE_FROM = "5.3.0"


@dataclass(frozen=True)
class Take:
    """One file copied from a package's tarball to ``static/<to>``."""

    package: str
    version: str
    file: str
    to: str
    licence: str
    load: Literal["script", "style"] | None = None
    """How the page loads it, in the order of the pins; None: shipped, not loaded."""
    note: str = ""


PINS: tuple[Take, ...] = (
    Take("react", REACT, "LICENSE", f"react@{REACT}/LICENSE", "MIT"),
    Take(
        "react",
        REACT,
        "umd/react.production.min.js",
        f"react@{REACT}/react.production.min.js",
        "MIT",
        load="script",
    ),
    Take("react-dom", REACT, "LICENSE", f"react-dom@{REACT}/LICENSE", "MIT"),
    Take(
        "react-dom",
        REACT,
        "umd/react-dom.production.min.js",
        f"react-dom@{REACT}/react-dom.production.min.js",
        "MIT",
        load="script",
    ),
    Take("graphiql", GRAPHIQL, "LICENSE", f"graphiql@{GRAPHIQL}/LICENSE", "MIT"),
    Take(
        "graphiql",
        GRAPHIQL,
        "graphiql.min.css",
        f"graphiql@{GRAPHIQL}/graphiql.min.css",
        "MIT",
        load="style",
        note="embeds its fonts (Roboto 2.137, Fira Code) as data: URIs; their licences follow",
    ),
    Take(
        "graphiql",
        GRAPHIQL,
        "graphiql.min.js",
        f"graphiql@{GRAPHIQL}/graphiql.min.js",
        "MIT",
        load="script",
    ),
    Take(
        "roboto-fontface",
        ROBOTO_LICENCE_FROM,
        "LICENSE",
        f"graphiql@{GRAPHIQL}/fonts/Roboto-LICENSE",
        "Apache-2.0",
        note="the licence of the Roboto 2.137 faces (Google, Apache-2.0) in graphiql.min.css",
    ),
    Take(
        "@fontsource/fira-code",
        FIRA_CODE_LICENCE_FROM,
        "LICENSE",
        f"graphiql@{GRAPHIQL}/fonts/FiraCode-LICENSE",
        "OFL-1.1",
        note="the licence of the Fira Code faces (Fira Code Project Authors) in graphiql.min.css",
    ),
    Take(
        "graphiql",
        GRAPHIQL,
        "LICENSE",
        f"graphiql-plugin-explorer@{EXPLORER}/LICENSE",
        "MIT",
        note="@graphiql/plugin-explorer's tarball has no LICENSE file; its package.json says "
        "MIT and it is developed in the graphql/graphiql repository under this licence",
    ),
    Take(
        "@graphiql/plugin-explorer",
        EXPLORER,
        "dist/style.css",
        f"graphiql-plugin-explorer@{EXPLORER}/style.css",
        "MIT",
        load="style",
    ),
    Take(
        "@graphiql/plugin-explorer",
        EXPLORER,
        "dist/index.umd.js",
        f"graphiql-plugin-explorer@{EXPLORER}/index.umd.js",
        "MIT",
        load="script",
    ),
)


@dataclass(frozen=True)
class Shipped:
    """A manifest row: a pinned file as shipped, with its digest."""

    package: str
    version: str
    file: str
    path: str
    sha256: str
    licence: str
    load: Literal["script", "style"] | None
    note: str


def _tarball(package: str, version: str, into: Path) -> tarfile.TarFile:
    """``npm pack``s one release (npm checks the registry's integrity) and opens it."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("refreshing the GraphiQL assets needs npm (Debian: apt-get install npm)")
    packed = subprocess.run(
        [npm, "pack", f"{package}@{version}", "--pack-destination", str(into), "--json"],
        check=True,
        capture_output=True,
        text=True,
    )
    (result,) = json.loads(packed.stdout)
    data = (into / result["filename"]).read_bytes()
    algorithm, _, expected = result["integrity"].partition("-")
    digest = base64.b64encode(hashlib.new(algorithm, data).digest()).decode()
    if digest != expected:
        raise SystemExit(f"{package}@{version}: the tarball does not match its integrity")
    return tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")


def download() -> dict[Take, bytes]:
    """Every pinned file's content, from tarballs checked against the registry."""
    contents: dict[Take, bytes] = {}
    opened: dict[tuple[str, str], tarfile.TarFile] = {}
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for take in PINS:
                key = (take.package, take.version)
                if key not in opened:
                    opened[key] = _tarball(take.package, take.version, Path(tmp))
                member = opened[key].extractfile(f"package/{take.file}")
                if member is None:
                    raise SystemExit(f"{take.package}@{take.version} has no file {take.file}")
                contents[take] = member.read()
        finally:
            for archive in opened.values():
                archive.close()
    return contents


def manifest_for(contents: dict[Take, bytes]) -> list[Shipped]:
    return [
        Shipped(
            package=take.package,
            version=take.version,
            file=take.file,
            path=take.to,
            sha256=hashlib.sha256(data).hexdigest(),
            licence=take.licence,
            load=take.load,
            note=take.note,
        )
        for take, data in contents.items()
    ]


def write(contents: dict[Take, bytes]) -> None:
    """Replaces the vendored folders of ``static/`` and the manifest."""
    for entry in STATIC.iterdir():
        if entry.is_dir() and "@" in entry.name:  # a vendored package@version folder
            shutil.rmtree(entry)
    for take, data in contents.items():
        target = STATIC / take.to
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
    rows = [asdict(row) for row in manifest_for(contents)]
    MANIFEST.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


def check(contents: dict[Take, bytes]) -> list[str]:
    """What differs between the shipped files and the registry's."""
    shipped = json.loads(MANIFEST.read_text(encoding="utf-8"))
    wanted = [asdict(row) for row in manifest_for(contents)]
    problems = [] if shipped == wanted else ["manifest.json differs from the pins"]
    for take, data in contents.items():
        path = STATIC / take.to
        if not path.is_file() or path.read_bytes() != data:
            problems.append(f"{take.to} differs from {take.package}@{take.version}/{take.file}")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hub.api.graphiql.refresh")
    parser.add_argument(
        "--check", action="store_true", help="only compare the shipped files with the registry's"
    )
    args = parser.parse_args(argv)
    contents = download()
    if args.check:
        problems = check(contents)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    write(contents)
    for take in PINS:
        print(f"{take.package}@{take.version} {take.file} -> static/{take.to}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
