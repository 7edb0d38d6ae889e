"""The HTTP surface: health, readiness, GraphiQL, error masking, settings, SDL snapshot,
the event stream's AsyncAPI document."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette

from hub.api.schema import sdl
from hub.app import create_app
from hub.cli.main import ASYNCAPI_FILE, SCHEMA_FILE
from hub.errors import ConfigError
from hub.settings import AuthSettings, Profile, Secret, Settings
from hub.store.database import Database
from tests.fixtures.app import KEY_DIR, GraphQLClient
from tests.fixtures.postgres import database_name, drop_database


async def test_health_and_readiness(http: httpx.AsyncClient) -> None:
    assert (await http.get("/healthz")).text == "ok"
    ready = await http.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["ready"] is True


async def test_readiness_fails_when_the_database_is_gone(
    http: httpx.AsyncClient, postgres_url: str, database_url: str
) -> None:
    await drop_database(postgres_url, database_name(database_url))
    response = await http.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["ready"] is False
    assert body["database"].startswith("unreachable")
    assert body["broker"] == "off"  # these settings run no sync


async def test_the_asyncapi_document_is_served_to_anyone(http: httpx.AsyncClient) -> None:
    response = await http.get("/asyncapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/yaml"
    # These settings keep the default topic names: the committed document.
    assert response.text == ASYNCAPI_FILE.read_text(encoding="utf-8")


async def test_a_hub_with_a_topic_prefix_serves_its_own_topic_names(database_url: str) -> None:
    settings = Settings(
        database_url=Secret(database_url),
        auth=AuthSettings(key_dir=KEY_DIR),
        kafka_topic_prefix="hub-b.",
        kafka_partitions=12,
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
        text = (await http.get("/asyncapi.yaml")).text
    assert "address: hub-b.sp4n.report-events.v1\n" in text
    assert "address: hub-b.sp4n.report-state.v1\n" in text
    assert "address: hub-b.sp4n.report-events.v1.dlq\n" in text
    assert "pattern: ^hub-b\\.sp4n-sinks-\n" in text
    assert "partitions: 12\n" in text
    assert "address: sp4n.report-events.v1\n" not in text


async def test_graphiql_is_served_to_browsers(http: httpx.AsyncClient) -> None:
    response = await http.get("/graphql", headers={"accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_production_profile_has_no_graphiql(database_url: str) -> None:
    settings = Settings(
        database_url=Secret(database_url),
        profile=Profile.PRODUCTION,
        auth=AuthSettings(key_dir=KEY_DIR),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://hub.test") as http:
            response = await http.get("/graphql", headers={"accept": "text/html"})
            assert "graphiql" not in response.text.lower()


async def test_unexpected_errors_are_masked(app: Starlette, gql: GraphQLClient) -> None:
    db: Database = app.state.database
    original = db.sql
    db.sql = {**original, "list_regions": "SELECT * FROM secret_internal_table"}
    try:
        body = await gql.execute("{ regions { code } }")
    finally:
        db.sql = original
    assert body["errors"][0]["message"] == "Internal error."
    assert body["errors"][0]["extensions"]["code"] == "INTERNAL"
    assert "secret_internal_table" not in str(body)


def test_settings_from_environment_name_the_bad_variable() -> None:
    settings = Settings.from_env(
        {"DATABASE_URL": "postgresql://u:hunter2@db/x", "SP4N_PORT": "9000"}
    )
    assert settings.port == 9000
    assert "hunter2" not in repr(settings)
    with pytest.raises(ConfigError, match="SP4N_PORT"):
        Settings.from_env({"SP4N_PORT": "eighty"})
    with pytest.raises(ConfigError, match="SP4N_PROFILE"):
        Settings.from_env({"SP4N_PROFILE": "staging"})
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        Settings.from_env({"DATABASE_URL": "mysql://db/x"})
    with pytest.raises(ConfigError, match="SP4N_MAX_PAGE_SIZE"):
        Settings.from_env({"SP4N_MAX_PAGE_SIZE": "0"})
    assert Settings.from_env({"SP4N_KAFKA_REPLICATION": "3"}).kafka_replication == 3
    with pytest.raises(ConfigError, match="SP4N_KAFKA_REPLICATION"):
        Settings.from_env({"SP4N_KAFKA_REPLICATION": "0"})
    with pytest.raises(ConfigError, match="DATABASE_URL"):
        create_app(Settings())


def test_committed_sdl_matches_the_code() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == sdl(), (
        "schema/hub.graphql is stale: run `sp4n-hub export-schema`"
    )
    for name in (
        "submitReport",
        "verifyReport",
        "postponeReport",
        "disposeReport",
        "addFollowUp",
        "completeReport",
        "reopenReport",
        "archiveReport",
        "reportByRef",
        "totalCount",
    ):
        assert name in SCHEMA_FILE.read_text(encoding="utf-8")
