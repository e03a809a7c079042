"""The mailer against real SMTP servers (aiosmtpd) that demand STARTTLS and a
login, or speak TLS from the first byte, with a certificate of the test's own
CA; and what happens when the certificate cannot be trusted."""

import datetime
import email
import email.policy
import ipaddress
import ssl

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from notify.adapters.mail import Mailer
from notify.adapters.transport import DeliveryFailed
from notify.settings import Smtp
from tests.support.servers import free_port

pytestmark = pytest.mark.integration

MESSAGE = {"to": "camille@mairie-test.fr", "to_name": "Camille", "subject": "Test",
           "text": "Bonjour", "html": "<p>Bonjour</p>", "language": "fr", "ics": None,
           "method": None}


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A CA and a server certificate for 127.0.0.1 and localhost."""
    directory = tmp_path_factory.mktemp("tls")
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Escale test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False,
                                       data_encipherment=False, key_agreement=False,
                                       encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(ca_key, hashes.SHA256()))
    (directory / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (directory / "server.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "server.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(directory / "server.pem", directory / "server.key")
    return {"ca": str(directory / "ca.pem"), "server": server}


class Handler:
    def __init__(self):
        self.messages = []
        self.logins = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content,
                                                      policy=email.policy.default))
        return "250 OK"


def authenticator(logins):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and \
            (auth_data.login, auth_data.password) == (b"escale", b"relay-password")
        logins.append(ok)
        return AuthResult(success=ok)
    return check


def test_starttls_with_login(certificate):
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            tls_context=certificate["server"], require_starttls=True,
                            authenticator=authenticator(handler.logins), auth_required=True,
                            auth_require_tls=True)
    controller.start()
    try:
        mailer = Mailer(Smtp(host="127.0.0.1", port=port, security="starttls", username="escale",
                             password="relay-password", ca_file=certificate["ca"], timeout=5))
        mailer.send(MESSAGE, "d-starttls")
        assert handler.logins == [True]
        assert [m["Message-ID"] for m in handler.messages] == ["<d-starttls@escale>"]

        plain = Mailer(Smtp(host="127.0.0.1", port=port, security="none", timeout=5))
        with pytest.raises(DeliveryFailed) as refused:  # the relay demands STARTTLS
            plain.send(MESSAGE, "d-plain")
        assert refused.value.permanent

        wrong = Mailer(Smtp(host="127.0.0.1", port=port, security="starttls", username="escale",
                            password="guess", ca_file=certificate["ca"], timeout=5))
        with pytest.raises(DeliveryFailed):  # refused login: nothing sent
            wrong.send(MESSAGE, "d-wrong")
        assert handler.logins[-1] is False

        untrusted = Mailer(Smtp(host="127.0.0.1", port=port, security="starttls",
                                username="escale", password="relay-password", timeout=5))
        with pytest.raises(DeliveryFailed) as unverified:  # no CA given: not trusted
            untrusted.send(MESSAGE, "d-untrusted")
        assert unverified.value.reason.startswith("TLS failed")
        assert len(handler.messages) == 1
    finally:
        controller.stop()


def test_implicit_tls(certificate):
    handler = Handler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port,
                            ssl_context=certificate["server"])
    controller.start()
    try:
        Mailer(Smtp(host="127.0.0.1", port=port, security="tls", ca_file=certificate["ca"],
                    timeout=5)).send(MESSAGE, "d-tls")
        assert [m["Subject"] for m in handler.messages] == ["Test"]
    finally:
        controller.stop()
