"""One blueprint per area of the JSON API, each registering its operations with the registry of
gateway_app/api.py (which builds the OpenAPI document from them); the use cases they share with
the web pages are in gateway_app/use_cases.py."""
