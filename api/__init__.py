"""The web layer: FastAPI app, GraphQL schema, authentication, one package per feature."""
