"""`python -m cc_common.healthcheck ADDRESS [SERVICE]`: exit 0 when the gRPC server at ADDRESS
reports SERVING through the standard `grpc.health.v1.Health/Check`, else 1.

Used by the containers' health checks and by the end-to-end harness; with GRPC_TLS_* set it
connects over mTLS with this process's client certificate. SERVICE is the full
service name ("customercenter.v2.PackageService"); empty (the default) asks for the server
as a whole.
"""

from __future__ import annotations

import argparse
import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from cc_common.config import GrpcTls
from cc_common.grpc_client import make_channel


def status(address: str, service: str = "", timeout: float = 3.0) -> str:
    """The health status name ("SERVING", "NOT_SERVING", ...) or "UNREACHABLE"/"UNKNOWN_SERVICE"."""
    # Without client-side health checking: that would hide a NOT_SERVING server behind UNAVAILABLE.
    with make_channel(address, GrpcTls.from_env(), health_checked=False) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.NOT_FOUND:
                return "UNKNOWN_SERVICE"
            return "UNREACHABLE"
    return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


def is_serving(address: str, service: str = "", timeout: float = 3.0) -> bool:
    return status(address, service, timeout) == "SERVING"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cc_common.healthcheck", description=__doc__.splitlines()[0]
    )
    parser.add_argument("address", help="host:port of the gRPC server")
    parser.add_argument("service", nargs="?", default="", help="full service name; empty = the server")
    parser.add_argument("--timeout", type=float, default=3.0)
    args = parser.parse_args(argv)
    result = status(args.address, args.service, args.timeout)
    print(f"{args.address} {args.service or '(server)'}: {result}")
    return 0 if result == "SERVING" else 1


if __name__ == "__main__":
    sys.exit(main())
