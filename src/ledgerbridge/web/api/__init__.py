"""The JSON REST API, version 1."""
