"""GraphiQL works offline (issue 14, item 12): the page Strawberry would render pulls every
script and style from a CDN, so with no internet it stayed blank. Local mode serves the page
with every asset from the project (api/static/graphiql/, copies of the npm packages pinned in
package.json), each checked against its integrity hash and, with node_modules installed, against
the package itself. Where Chromium is installed, a headless browser that can reach no host but
127.0.0.1 must render the GraphiQL editor."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from api.app import create_app
from api.router import GRAPHIQL_ASSETS_DIR
from tests.conftest import serve_in_thread

ROOT = Path(__file__).resolve().parents[2]
MANIFEST = json.loads((GRAPHIQL_ASSETS_DIR / "assets.json").read_text(encoding="utf-8"))["files"]
HTML = {"Accept": "text/html"}


class Assets(HTMLParser):
    """Every script src and link href on the page, with its integrity attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str | None]] = []  # (tag, url, integrity)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        url = a.get("src") if tag == "script" else a.get("href") if tag == "link" else None
        if url is not None:
            self.refs.append((tag, url, a.get("integrity")))


def page_assets(html: str) -> list[tuple[str, str, str | None]]:
    parser = Assets()
    parser.feed(html)
    return parser.refs


def sri(content: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(content).digest()).decode()


async def test_graphiql_page_loads_every_asset_from_the_project(client):
    response = await client.get("/graphql", headers=HTML)
    assert response.status_code == 200 and "text/html" in response.headers["content-type"]
    refs = page_assets(response.text)
    scripts = [url for tag, url, _ in refs if tag == "script"]
    assert len(scripts) == 5 and len(refs) == 8  # react, react-dom, js-cookie, graphiql, explorer
    for _tag, url, integrity in refs:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url  # same origin: no http(s), no //host
        assert parts.path.startswith("/graphiql-assets/"), url
        asset = await client.get(url)
        assert asset.status_code == 200, url
        if integrity is not None:
            assert sri(asset.content) == integrity, url
    assert "unpkg.com" not in response.text and "https://" not in response.text
    served = {urlsplit(url).path.rsplit("/", 1)[-1] for _, url, _ in refs}
    assert set(MANIFEST) <= served


async def test_graphiql_page_follows_the_root_path(app):
    import httpx

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, root_path="/api")
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            html = (await c.get("/graphql", headers=HTML)).text
    assert all(url.startswith("/api/graphiql-assets/") for _, url, _ in page_assets(html))


async def test_production_serves_neither_the_page_nor_its_assets(settings, shared_engine):
    prod = settings.model_copy(update={"graphiql": False})
    app = create_app(prod, engine=shared_engine)
    import httpx

    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            page = await c.get("/graphql", headers=HTML)
            asset = await c.get("/graphiql-assets/graphiql.min.js")
    assert "graphiql" not in page.text.lower()
    assert asset.status_code == 404


def test_vendored_files_are_the_pinned_packages():
    pins = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))["devDependencies"]
    for name, source in MANIFEST.items():
        assert (GRAPHIQL_ASSETS_DIR / name).is_file(), name
        assert pins.get(source["package"]) == source["version"], source  # package.json agrees
        installed = ROOT / "node_modules" / source["package"]
        if not installed.is_dir():
            continue  # `make run` installs no npm packages; `make test` does
        version = json.loads((installed / "package.json").read_text(encoding="utf-8"))["version"]
        assert version == source["version"], f"{source['package']}: run npm ci"
        vendored = (GRAPHIQL_ASSETS_DIR / name).read_bytes()
        assert vendored == (installed / source["path"]).read_bytes(), name
    for licence in ("LICENSE.react", "LICENSE.js-cookie", "LICENSE.graphiql"):
        assert "MIT" in (GRAPHIQL_ASSETS_DIR / licence).read_text(encoding="utf-8")


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def live_app(app) -> Iterator[str]:
    with serve_in_thread(app) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")
def test_graphiql_renders_in_a_browser_that_reaches_only_this_machine(live_app, tmp_path):
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            f"--user-data-dir={tmp_path / 'profile'}",
            # Every host but this machine fails to resolve: as offline as it gets.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=20000",
            "--dump-dom",
            f"{live_app}/graphql",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    assert 'class="graphiql-container"' in dom and "Loading..." not in dom
    # GraphiQL's own editor and toolbar were rendered by its scripts.
    assert "graphiql-editors" in dom and "graphiql-execute-button" in dom
