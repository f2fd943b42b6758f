"""Typed functions over the gRPC services, one module per service: the only way the API
blueprints and the web pages reach a service. Each function calls its stub method as an
attribute through the service's client (gateway_app.backends: deadline, credentials, gRPC
errors mapped to DomainErrors). `token` is the caller's token; a function without one uses
the gateway's service credential (`service:gateway`)."""

from gateway_app.clients import contracts, identity, merges, packages

__all__ = ["contracts", "identity", "merges", "packages"]
