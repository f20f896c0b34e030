"""The doctor's relay check over TLS: a real relay offering STARTTLS with its own certificate.

The relay (aiosmtpd) refuses mail and logins before STARTTLS, as submission relays do. Its
certificate is made here, self-signed; the doctor trusts it the way a deployment trusts a
private relay's: through the system's trust store, here SSL_CERT_FILE. Verification is
never switched off.
"""

from __future__ import annotations

import ipaddress
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import Flask

from tests.conftest import free_port
from tests.doctor.test_relay_and_links import doctor

LOGIN, PASSWORD = "lettre", "secret"


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path


def self_signed(directory: Path, host: str) -> Certificate:
    """A certificate for `host` (a name or an IP address), signed by its own key."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    try:
        alternative: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        alternative = x509.DNSName(host)
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([alternative]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    found = Certificate(cert=directory / "cert.pem", key=directory / "key.pem")
    found.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    found.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return found


def authenticate(
    server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: object
) -> AuthResult:
    login = getattr(data, "login", b"").decode()
    password = getattr(data, "password", b"").decode()
    return AuthResult(success=(login, password) == (LOGIN, PASSWORD), handled=False)


@pytest.fixture
def tls_relay() -> Iterator[Callable[..., int]]:
    """Starts a relay with a certificate; its port. STARTTLS before MAIL and before AUTH, or
    with implicit=True, TLS from the first byte (smtps://)."""
    controllers: list[Controller] = []

    def start(certificate: Certificate, *, implicit: bool = False) -> int:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(certificate.cert, certificate.key)
        port = free_port()
        controller = Controller(
            Sink(),
            hostname="127.0.0.1",
            port=port,
            require_starttls=not implicit,
            authenticator=authenticate,
            auth_require_tls=not implicit,
            ssl_context=context if implicit else None,
            tls_context=None if implicit else context,
        )
        controller.start()
        controllers.append(controller)
        return port

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def trust(monkeypatch: pytest.MonkeyPatch) -> Callable[[Path | None], None]:
    """The machine trusts the system's authorities, and this certificate if one is given."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)

    def also(cert: Path | None) -> None:
        if cert is not None:
            monkeypatch.setenv("SSL_CERT_FILE", str(cert))

    return also


def test_a_relay_whose_certificate_is_trusted_passes_starttls_auth_and_mail_from(
    app: Flask,
    live_url: str,
    tmp_path: Path,
    tls_relay: Callable[..., int],
    trust: Callable[[Path | None], None],
) -> None:
    certificate = self_signed(tmp_path / "relay", "127.0.0.1")
    port = tls_relay(certificate)
    trust(certificate.cert)
    app.config["SMTP_URL"] = f"smtp://{LOGIN}:{PASSWORD}@127.0.0.1:{port}?starttls=1"

    rows = doctor(app)

    assert rows["SMTP relay"]["verdict"] == "ok"
    assert rows["SMTP STARTTLS"] == {
        "check": "SMTP STARTTLS",
        "verdict": "ok",
        "detail": "STARTTLS offered, certificate verified",
        "fix": "",
    }
    # The relay takes a login and a sender only over TLS: these prove the session was.
    assert rows["SMTP AUTH"]["verdict"] == "ok"
    assert rows["SMTP MAIL FROM"]["verdict"] == "ok"


@pytest.mark.parametrize(
    ("host", "trusted", "reason"),
    [
        ("127.0.0.1", False, "self-signed certificate"),
        ("relay.example", True, "IP address mismatch, certificate is not valid for '127.0.0.1'"),
    ],
    ids=["not-trusted", "another-host"],
)
def test_a_relay_whose_certificate_does_not_verify_fails_starttls_saying_why(
    app: Flask,
    live_url: str,
    tmp_path: Path,
    tls_relay: Callable[..., int],
    trust: Callable[[Path | None], None],
    host: str,
    trusted: bool,
    reason: str,
) -> None:
    certificate = self_signed(tmp_path / "relay", host)
    port = tls_relay(certificate)
    trust(certificate.cert if trusted else None)
    app.config["SMTP_URL"] = f"smtp://{LOGIN}:{PASSWORD}@127.0.0.1:{port}?starttls=1"

    rows = doctor(app)

    assert rows["SMTP relay"]["verdict"] == "ok"
    assert rows["SMTP STARTTLS"] == {
        "check": "SMTP STARTTLS",
        "verdict": "FAIL",
        "detail": f"the certificate of 127.0.0.1:{port} does not verify: {reason}",
        "fix": "give the relay a certificate for 127.0.0.1 from an authority this machine "
        "trusts; a private authority goes into the system's trust store (or the file "
        "SSL_CERT_FILE names)",
    }
    assert "SMTP AUTH" not in rows and "SMTP MAIL FROM" not in rows


def test_an_smtps_relay_whose_certificate_does_not_verify_fails_the_relay_check_saying_why(
    app: Flask,
    live_url: str,
    tmp_path: Path,
    tls_relay: Callable[..., int],
    trust: Callable[[Path | None], None],
) -> None:
    certificate = self_signed(tmp_path / "relay", "127.0.0.1")
    port = tls_relay(certificate, implicit=True)
    trust(None)
    app.config["SMTP_URL"] = f"smtps://127.0.0.1:{port}"

    rows = doctor(app)

    assert rows["SMTP relay"]["verdict"] == "FAIL"
    assert rows["SMTP relay"]["detail"] == (
        f"the certificate of 127.0.0.1:{port} does not verify: self-signed certificate"
    )
    assert "SSL_CERT_FILE" in rows["SMTP relay"]["fix"]

    trust(certificate.cert)
    assert doctor(app)["SMTP relay"]["verdict"] == "ok"
