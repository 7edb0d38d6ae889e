"""GraphiQL from the copies the hub ships, so the page works with no internet."""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass
from html import escape
from pathlib import Path
from string import Template

from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"

# The browser itself refuses anything but the hub: a stray CDN reference fails
# loudly here rather than hanging on "Loading..." in a data centre.
# 'self' covers the same-origin ws:// of subscriptions (CSP Level 3).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "font-src data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class Asset:
    """A vendored file, as the manifest lists it."""

    path: str
    sha256: str
    load: str | None
    """"script" or "style" in the page, in manifest order; None: shipped only (licences)."""


def _shipped(manifest: Path) -> list[Asset]:
    rows = json.loads(manifest.read_text(encoding="utf-8"))
    return [Asset(row["path"], row["sha256"], row["load"]) for row in rows]


def _integrity(sha256: str) -> str:
    return "sha256-" + base64.b64encode(bytes.fromhex(sha256)).decode()


class Assets(StaticFiles):
    """The static folder; the versioned files of the manifest are cached for good."""

    def __init__(self, directory: Path, immutable: frozenset[str]) -> None:
        super().__init__(directory=directory)
        # As StaticFiles resolves the files it serves.
        self._immutable = frozenset(os.path.realpath(directory / path) for path in immutable)

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        # Vendored files live under package@version, so a new version is a new URL;
        # the page's own script is not versioned: revalidate it (ETag) every time.
        versioned = os.fspath(full_path) in self._immutable
        response.headers["cache-control"] = IMMUTABLE if versioned else "no-cache"
        return response


class GraphiQLPage:
    """The IDE page, and the route serving what it loads under ``prefix``."""

    def __init__(self, prefix: str = "/graphiql-assets") -> None:
        assets = _shipped(HERE / "manifest.json")
        self.prefix = prefix
        self._immutable = frozenset(asset.path for asset in assets)

        def url(path: str) -> str:
            return escape(f"{prefix}/{path}")

        styles = "\n".join(
            f'    <link rel="stylesheet" href="{url(a.path)}" integrity="{_integrity(a.sha256)}" />'
            for a in assets
            if a.load == "style"
        )
        scripts = "\n".join(
            f'    <script src="{url(a.path)}" integrity="{_integrity(a.sha256)}"></script>'
            for a in assets
            if a.load == "script"
        )
        template = Template((HERE / "page.html").read_text(encoding="utf-8"))
        self.html = template.substitute(styles=styles, scripts=scripts, boot=url("boot.js"))

    def response(self) -> Response:
        return Response(
            self.html,
            media_type="text/html",
            headers={"content-security-policy": CONTENT_SECURITY_POLICY},
        )

    def route(self) -> Mount:
        return Mount(self.prefix, app=Assets(STATIC, self._immutable), name="graphiql-assets")
