"""Helpers that start real services for the tests (redis-server, the nx-27017 Mongo wire server)."""
