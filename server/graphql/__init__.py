"""The GraphQL API: strawberry types, one module per area; resolvers translate and call services."""
