"""The GraphQL API: types, loaders, context, query and mutation roots, schema."""
