"""The HTTP API: thin routers over workflows and read models."""
