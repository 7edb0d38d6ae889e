"""The SP4N federation hub: GraphQL API, PostgreSQL index, sync and connectors."""
