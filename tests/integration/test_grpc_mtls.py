"""gRPC over TLS with client certificates, and reflection off in production: a real
package-service server with a CA, server and client certificates made here."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

import grpc
import pytest
from cc_common import healthcheck
from cc_common.config import GrpcTls
from cc_common.grpc_client import make_channel
from cc_common.grpc_server import set_serving
from cc_common.testing import ServerThread, TokenFactory, metadata, token_settings_in
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from customercenter.v2 import package_pb2, package_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from package_service import bootstrap as package_boot

TIMEOUT = 5


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


class CertificateAuthority:
    """A CA that signs server and client certificates, written as PEM files."""

    def __init__(self, directory: Path, name: str = "test-ca") -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = directory / "ca.pem"
        self.ca_file.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def issue(self, name: str, *, server: bool) -> tuple[Path, Path]:
        """A client certificate, or with `server` the certificate of a process: it serves
        (127.0.0.1, localhost) and calls other services with the same certificate."""
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        usage = (
            [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            if server
            else [ExtendedKeyUsageOID.CLIENT_AUTH]
        )
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.ExtendedKeyUsage(usage), critical=False)
        )
        if server:
            builder = builder.add_extension(
                x509.SubjectAlternativeName(
                    [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                ),
                critical=False,
            )
        cert = builder.sign(self.key, hashes.SHA256())
        cert_file, key_file = self.directory / f"{name}.pem", self.directory / f"{name}.key"
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        key_file.write_bytes(_pem_key(key))
        return cert_file, key_file


@pytest.fixture
def pki(tmp_path):
    ca = CertificateAuthority(tmp_path / "pki")
    server_cert, server_key = ca.issue("package", server=True)
    client_cert, client_key = ca.issue("gateway", server=False)
    return (
        ca,
        GrpcTls(cert=server_cert, key=server_key, ca=ca.ca_file),
        GrpcTls(cert=client_cert, key=client_key, ca=ca.ca_file),
    )


@pytest.fixture
def tls_server(tmp_path, pki):
    _, server_tls, _ = pki
    tokens = token_settings_in(tmp_path)
    settings = package_boot.Settings(
        database_url=f"sqlite:///{tmp_path / 'package.db'}",
        listen="127.0.0.1:0",
        tokens=tokens,
        tls=server_tls,
    )
    thread = ServerThread(lambda: package_boot.create_server("127.0.0.1:0", settings)).start()
    thread.run(set_serving(thread.extra[0], [], True))
    yield thread, TokenFactory(tokens)
    thread.stop()


def _list_products(channel: grpc.Channel, token: str):
    stub = package_pb2_grpc.PackageServiceStub(channel)
    return stub.ListProducts(package_pb2.ListProductsRequest(), metadata=metadata(token), timeout=TIMEOUT)


def _refused(channel: grpc.Channel, token: str) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        _list_products(channel, token)
    return err.value.code()


def test_a_client_with_a_certificate_of_the_ca_is_served_over_mtls(tls_server, pki):
    thread, tokens = tls_server
    _, _, client_tls = pki
    with make_channel(thread.address, client_tls) as channel:
        products = _list_products(channel, tokens.staff()).products
    assert [p.code for p in products][:1] == ["hosting-basic"]


def test_a_client_without_a_certificate_is_refused(tls_server, pki):
    thread, tokens = tls_server
    ca, _, _ = pki
    credentials = grpc.ssl_channel_credentials(root_certificates=ca.ca_file.read_bytes())
    with grpc.secure_channel(thread.address, credentials) as channel:
        assert _refused(channel, tokens.staff()) == grpc.StatusCode.UNAVAILABLE


def test_a_client_with_a_certificate_of_another_ca_is_refused(tls_server, pki, tmp_path):
    thread, tokens = tls_server
    ca, _, _ = pki
    stranger = CertificateAuthority(tmp_path / "other", name="other-ca")
    cert, key = stranger.issue("intruder", server=False)
    with make_channel(thread.address, GrpcTls(cert=cert, key=key, ca=ca.ca_file)) as channel:
        assert _refused(channel, tokens.staff()) == grpc.StatusCode.UNAVAILABLE


def test_a_plaintext_client_is_refused(tls_server):
    thread, tokens = tls_server
    with grpc.insecure_channel(thread.address) as channel:
        assert _refused(channel, tokens.staff()) == grpc.StatusCode.UNAVAILABLE


def test_the_health_check_command_connects_with_the_client_certificate_of_the_environment(
    tls_server, pki, monkeypatch
):
    thread, _ = tls_server
    _, _, client_tls = pki
    monkeypatch.setenv("GRPC_TLS_CERT", str(client_tls.cert))
    monkeypatch.setenv("GRPC_TLS_KEY", str(client_tls.key))
    monkeypatch.setenv("GRPC_TLS_CA", str(client_tls.ca))
    assert healthcheck.status(thread.address) == "SERVING"
    monkeypatch.delenv("GRPC_TLS_CERT")
    monkeypatch.delenv("GRPC_TLS_KEY")
    monkeypatch.delenv("GRPC_TLS_CA")
    assert healthcheck.status(thread.address, timeout=1) == "UNREACHABLE"


def test_a_services_revocation_replica_watches_identity_over_mtls(tmp_path, database_url, pki):
    from identity_service import bootstrap as identity_boot

    _, server_tls, _ = pki
    tokens = token_settings_in(tmp_path)
    identity_settings = identity_boot.Settings(
        database_url=database_url("identity"), listen="127.0.0.1:0", tokens=tokens, tls=server_tls
    )
    identity = ServerThread(lambda: identity_boot.create_server("127.0.0.1:0", identity_settings)).start()
    try:
        settings = package_boot.Settings(
            database_url=database_url("package"),
            listen="127.0.0.1:0",
            tokens=tokens,
            identity_addr=identity.address,
            tls=server_tls,
        )
        package = ServerThread(lambda: package_boot.create_server("127.0.0.1:0", settings)).start()
        try:
            watcher = package.extra[-1]
            assert watcher.state.wait_synced(15)
        finally:
            package.stop()
    finally:
        identity.stop()


def test_half_a_tls_configuration_is_refused_naming_the_missing_variable(monkeypatch, pki):
    _, _, client_tls = pki
    monkeypatch.setenv("GRPC_TLS_CERT", str(client_tls.cert))
    monkeypatch.setenv("GRPC_TLS_KEY", str(client_tls.key))
    monkeypatch.delenv("GRPC_TLS_CA", raising=False)
    with pytest.raises(RuntimeError, match="GRPC_TLS_CA"):
        GrpcTls.from_env()


# --- reflection ---------------------------------------------------------------------------


def _reflected_services(address: str) -> list[str]:
    with grpc.insecure_channel(address) as channel:
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        reply = next(iter(stub.ServerReflectionInfo(iter([request]), timeout=TIMEOUT)))
    return [s.name for s in reply.list_services_response.service]


@pytest.mark.parametrize("app_env", ["development", "production"])
def test_reflection_is_served_in_development_and_off_in_production(tmp_path, monkeypatch, app_env):
    tokens = token_settings_in(tmp_path)  # made before APP_ENV=production: no key is made there
    monkeypatch.setenv("APP_ENV", app_env)
    settings = package_boot.Settings(
        database_url=f"sqlite:///{tmp_path / 'package.db'}", listen="127.0.0.1:0", tokens=tokens
    )
    thread = ServerThread(lambda: package_boot.create_server("127.0.0.1:0", settings)).start()
    try:
        if app_env == "development":
            assert package_boot.SERVICE_NAME in _reflected_services(thread.address)
        else:
            with pytest.raises(grpc.RpcError) as err:
                _reflected_services(thread.address)
            assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    finally:
        thread.stop()
