"""OpenAPI: the document describing the JSON API, served at /admin/api/openapi.json.
"""
