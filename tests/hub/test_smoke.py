from tests.conftest import GraphQLClient


async def test_regions(gql: GraphQLClient) -> None:
    data = await gql.data("{ regions { code bpsCode name } nodes { code } }")
    assert len(data["regions"]) == 18
    assert len(data["nodes"]) == 19
