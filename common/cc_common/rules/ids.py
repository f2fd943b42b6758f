"""The shape of an opaque id a service hands out (pkg_3f2a9c, ctr_1a2b, trm_5e6f): contract-service
refuses any other where a request names a package, contract or termination, and the gateway
documents and checks the same shape."""

from __future__ import annotations

OPAQUE_ID = "[A-Za-z0-9_.:-]{1,64}"
