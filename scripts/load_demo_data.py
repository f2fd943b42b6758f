"""Loads the demo data of `make run`: customers of each market with packages and invoices,
chosen so that each market's merge cases can be tried at once (README, "Demo data";
docs/architecture.md, "Markets").

It starts identity-, contract- and package-service in this process on free ports (with the
same settings and databases as `make run`), talks to them over gRPC with a staff token signed
by the local key, and does nothing when the demo customers exist already.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

import grpc  # noqa: E402
from cc_common.config import TokenSettings  # noqa: E402
from cc_common.protoconv import enum_value  # noqa: E402
from cc_common.testing import ServerThread, TokenFactory, metadata  # noqa: E402
from cc_common.tokens import ensure_all_keys  # noqa: E402
from customercenter.v2 import (  # noqa: E402
    common_pb2,
    contract_pb2,
    contract_pb2_grpc,
    identity_pb2,
    identity_pb2_grpc,
    package_pb2,
    package_pb2_grpc,
)

CUSTOMER_PASSWORD = "demo-password"
PACKAGE_PASSWORD = "package-password"


def person(market, first, last, street, zip_code, city, phone, email, **extra):
    return dict(
        market=market,
        first_name=first,
        last_name=last,
        street=street,
        zip=zip_code,
        city=city,
        phone=phone,
        email=email,
        **extra,
    )


DE_IBAN, DE_IBAN_2 = "DE89370400440532013000", "DE02120300000000202051"
NL_IBAN, NL_IBAN_2 = "NL91ABNA0417164300", "NL39RABO0300065264"

# number -> (master data, payment, [(product, [domains])], [(amount_cents, status)])
DEMO = {
    # Germany: 10000002 differs only in contact data and bank account
    # (highlighted); 10000003 has another last name (blocked: legal proof).
    "10000001": (
        person(
            "de", "Max", "Mustermann", "Hauptstraße 1", "10115", "Berlin", "+49 30 1234567", "max@example.com"
        ),
        dict(iban=DE_IBAN, bic="COBADEFFXXX"),
        [("hosting-plus", ["mustermann.de", "mustermann-blog.de"])],
        [(1199, "open"), (1199, "paid")],
    ),
    "10000002": (
        person(
            "de",
            "Max",
            "Mustermann",
            "Gartenweg 5",
            "20095",
            "Hamburg",
            "+49 40 7654321",
            "max.mustermann@example.org",
        ),
        dict(iban=DE_IBAN_2, bic="BYLADEM1001"),
        [("hosting-basic", ["max-shop.de"])],
        [(499, "open")],
    ),
    "10000003": (
        person(
            "de", "Max", "Musterfrau", "Hauptstraße 1", "10115", "Berlin", "+49 30 1234567", "max@example.com"
        ),
        dict(iban=DE_IBAN, bic="COBADEFFXXX"),
        [("hosting-basic", ["musterfrau.de"])],
        [(499, "paid")],
    ),
    # Netherlands: 20000002 differs in contact data; 20000003 has another IBAN (blocked).
    "20000001": (
        person("nl", "Jan", "Jansen", "Damrak 1", "1012 LG", "Amsterdam", "+31 20 1234567", "jan@example.nl"),
        dict(iban=NL_IBAN, bic="ABNANL2A"),
        [("hosting-plus", ["jansen.nl"])],
        [(1299, "open")],
    ),
    "20000002": (
        person(
            "nl",
            "Jan",
            "Jansen",
            "Coolsingel 40",
            "3011 AD",
            "Rotterdam",
            "+31 10 7654321",
            "j.jansen@example.nl",
        ),
        dict(iban=NL_IBAN, bic="ABNANL2A"),
        [("hosting-basic", ["jansen-winkel.nl"])],
        [(599, "paid")],
    ),
    "20000003": (
        person("nl", "Jan", "Jansen", "Damrak 1", "1012 LG", "Amsterdam", "+31 20 1234567", "jan@example.nl"),
        dict(iban=NL_IBAN_2, bic="RABONL2U"),
        [("hosting-basic", ["jansen-fotos.nl"])],
        [(599, "open")],
    ),
    # United Kingdom: 30000002 differs in contact data; 30000003 has another card (blocked).
    "30000001": (
        person(
            "uk",
            "John",
            "Smith",
            "10 Downing Street",
            "SW1A 2AA",
            "London",
            "+44 20 7946 0000",
            "john@example.co.uk",
        ),
        dict(card_token="tok_demo_visa_4242", card_last4="4242", card_expiry="12/29"),
        [("hosting-pro", ["smith.co.uk"])],
        [(2499, "open")],
    ),
    "30000002": (
        person(
            "uk",
            "John",
            "Smith",
            "221B Baker Street",
            "NW1 6XE",
            "London",
            "+44 20 7946 0999",
            "j.smith@example.co.uk",
        ),
        dict(card_token="tok_demo_visa_4242b", card_last4="4242", card_expiry="12/29"),
        [("hosting-basic", ["smith-shop.co.uk"])],
        [(799, "paid")],
    ),
    "30000003": (
        person(
            "uk",
            "John",
            "Smith",
            "10 Downing Street",
            "SW1A 2AA",
            "London",
            "+44 20 7946 0000",
            "john@example.co.uk",
        ),
        dict(card_token="tok_demo_mc_4444", card_last4="4444", card_expiry="03/28"),
        [("hosting-basic", ["smith-photos.co.uk"])],
        [(799, "open")],
    ),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Loads the demo customers (does nothing when they exist).")
    parser.add_argument(
        "--identity", help="address of a running identity-service (with --contract and --package)"
    )
    parser.add_argument("--contract")
    parser.add_argument("--package")
    args = parser.parse_args(argv)
    settings = TokenSettings.from_env()
    ensure_all_keys(settings)
    tokens = TokenFactory(settings)
    staff = metadata(tokens.staff("demo-loader"))
    if args.identity and args.contract and args.package:
        # The services run already (make cluster): talk to them.
        servers = []
        addresses = [args.identity, args.contract, args.package]
    else:
        from contract_service.bootstrap import create_server as contract_server
        from identity_service.bootstrap import create_server as identity_server
        from package_service.bootstrap import create_server as package_server

        os.environ.pop("DATABASE_URL", None)  # each service uses its own default database under var/
        servers = [
            ServerThread(lambda f=f: f("127.0.0.1:0")).start()
            for f in (identity_server, contract_server, package_server)
        ]
        addresses = [server.address for server in servers]
    try:
        identity = identity_pb2_grpc.IdentityServiceStub(grpc.insecure_channel(addresses[0]))
        contract = contract_pb2_grpc.ContractServiceStub(grpc.insecure_channel(addresses[1]))
        package = package_pb2_grpc.PackageServiceStub(grpc.insecure_channel(addresses[2]))
        try:
            contract.GetCustomer(
                contract_pb2.GetCustomerRequest(customer_number="10000001"), metadata=staff, timeout=10
            )
            print("Demo data is loaded already (var/). Delete var/ to start afresh.")
            return 0
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.NOT_FOUND:
                raise
        for number, (data, payment, packages, invoices) in DEMO.items():
            contract.CreateCustomer(
                contract_pb2.CreateCustomerRequest(
                    customer_number=number,
                    payment=contract_pb2.PaymentInput(**payment),
                    **{**data, "market": enum_value(common_pb2.Market, data["market"])},
                ),
                metadata=staff,
                timeout=10,
            )
            identity.SetCustomerPassword(
                identity_pb2.SetCustomerPasswordRequest(customer_number=number, password=CUSTOMER_PASSWORD),
                metadata=staff,
                timeout=10,
            )
            for product, domains in packages:
                created = package.CreatePackage(
                    package_pb2.CreatePackageRequest(
                        customer_number=number, product=product, domains=domains
                    ),
                    metadata=staff,
                    timeout=10,
                ).package
                identity.SetPackagePassword(
                    identity_pb2.SetPackagePasswordRequest(package_id=created.id, password=PACKAGE_PASSWORD),
                    metadata=staff,
                    timeout=10,
                )
                start = (date.today() - timedelta(days=200)).isoformat()
                contract.CreateContract(
                    contract_pb2.CreateContractRequest(
                        package_id=created.id, customer_number=number, product=product, start_date=start
                    ),
                    metadata=staff,
                    timeout=10,
                )
            for i, (cents, status) in enumerate(invoices):
                day = (date.today() - timedelta(days=30 * (len(invoices) - i))).isoformat()
                contract.CreateInvoice(
                    contract_pb2.CreateInvoiceRequest(
                        customer_number=number,
                        amount_cents=cents,
                        status=enum_value(contract_pb2.InvoiceStatus, status),
                        date=day,
                    ),
                    metadata=staff,
                    timeout=10,
                )
        print(
            f"Demo data loaded: {len(DEMO)} customers (password {CUSTOMER_PASSWORD!r}), package password {PACKAGE_PASSWORD!r}."
        )
        return 0
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    sys.exit(main())
