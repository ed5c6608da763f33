"""The REST API under ``<base_url>modelhub/api/``: handlers, request schemas, OpenAPI document."""
