"""daily/mail.py over TLS against a real aiosmtpd server on 127.0.0.1: STARTTLS and implicit SSL with a
throwaway private CA made here with the openssl CLI, the CA trusted through PAPERLENS_SMTP_CAFILE, the
login sent only over the encrypted channel, and an untrusted certificate reported as one sentence."""

from __future__ import annotations

import email
import shutil
import ssl
import subprocess
from email import policy
from pathlib import Path

import pytest

from paperlens.daily.mail import MailError, SmtpSettings, build_message, send

from .conftest import free_port

aiosmtpd = pytest.importorskip("aiosmtpd.controller")
from aiosmtpd.smtp import AuthResult, LoginPassword  # noqa: E402

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
pytestmark = pytest.mark.skipif(not Path(OPENSSL).exists(), reason="no openssl CLI to make a test certificate")


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_ca(root: Path, name: str) -> tuple[Path, Path]:
    """A CA (certificate, key) and a server certificate it signed for 127.0.0.1 and localhost:
    ROOT/NAME-ca.pem, ROOT/NAME-server.pem, ROOT/NAME-server.key."""
    config = root / f"{name}-ca.cnf"  # our own config: no dependence on the system's openssl.cnf
    config.write_text(f"[req]\ndistinguished_name = dn\nx509_extensions = v3\nprompt = no\n"
                      f"[dn]\nCN = {name} test CA\n[v3]\nbasicConstraints = critical,CA:TRUE\n"
                      "keyUsage = critical,keyCertSign,cRLSign\nsubjectKeyIdentifier = hash\n"
                      "authorityKeyIdentifier = keyid:always\n", encoding="ascii")
    _openssl("req", "-x509", "-config", config.name, "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-keyout", f"{name}-ca.key", "-out", f"{name}-ca.pem", cwd=root)
    ext = root / f"{name}-server.ext"
    ext.write_text("basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
                   "authorityKeyIdentifier=keyid\nsubjectKeyIdentifier=hash\n", encoding="ascii")
    _openssl("req", "-config", config.name, "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", f"{name}-server.key",
             "-out", f"{name}-server.csr", cwd=root)
    _openssl("x509", "-req", "-in", f"{name}-server.csr", "-CA", f"{name}-ca.pem", "-CAkey", f"{name}-ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", ext.name, "-out", f"{name}-server.pem", cwd=root)
    return root / f"{name}-ca.pem", root / f"{name}-server.pem"


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tls")
    ca, server = make_ca(root, "good")
    other_ca, _ = make_ca(root, "other")  # a CA that did not sign the server's certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(server, root / "good-server.key")
    return {"ca": ca, "other_ca": other_ca, "server_context": context}


class Inbox:
    """aiosmtpd handler and authenticator: keeps the messages, and how each login arrived."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.logins: list[tuple[str, str, str | None]] = []  # (user, password, TLS version or None)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def __call__(self, server, session, envelope, mechanism, auth_data):  # the authenticator
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        tls = server.transport.get_extra_info("ssl_object")
        self.logins.append((auth_data.login.decode(), auth_data.password.decode(), tls and tls.version()))
        ok = auth_data.login == b"ana@example.org" and auth_data.password == b"app-password"
        return AuthResult(success=ok, handled=False)


@pytest.fixture(params=["starttls", "ssl"])
def tls_server(request, certs):
    """A real SMTP server on 127.0.0.1 speaking STARTTLS (required before MAIL and AUTH) or implicit SSL."""
    inbox = Inbox()
    port = free_port()
    if request.param == "starttls":
        controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port, tls_context=certs["server_context"],
                                         require_starttls=True, authenticator=inbox)
    else:
        # Implicit TLS: aiosmtpd only knows of STARTTLS, so it is told that AUTH may be offered on this
        # (already encrypted) connection; the authenticator records whether the channel really is.
        controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=certs["server_context"],
                                         auth_require_tls=False, authenticator=inbox)
    controller.start()
    yield request.param, inbox, f"127.0.0.1:{port}"
    controller.stop()


def message(subject: str = "paperlens test"):
    return build_message("digest@example.org", ["ana@example.org"], subject, "plain body", "<p>html body</p>",
                         "ana/2025-11-25")


def test_login_and_send_over_tls_with_a_private_ca(tls_server, certs):
    security, inbox, address = tls_server
    env = {"PAPERLENS_SMTP_SECURITY": security, "PAPERLENS_SMTP_CAFILE": str(certs["ca"]),
           "PAPERLENS_SMTP_USER": "ana@example.org", "PAPERLENS_SMTP_PASSWORD": "app-password"}
    settings = SmtpSettings.parse(address, env)
    assert settings.cafile == str(certs["ca"]) and settings.security == security
    send(settings, message())
    assert [m["Subject"] for m in inbox.messages] == ["paperlens test"]
    assert inbox.messages[0].get_body(("plain",)).get_content().strip() == "plain body"
    assert len(inbox.logins) == 1
    user, password, tls_version = inbox.logins[0]
    assert (user, password) == ("ana@example.org", "app-password")
    assert tls_version in ("TLSv1.2", "TLSv1.3"), "the login did not go over an encrypted channel"


def test_wrong_password_is_a_mail_error(tls_server, certs):
    security, inbox, address = tls_server
    settings = SmtpSettings.parse(address, {"PAPERLENS_SMTP_SECURITY": security,
                                            "PAPERLENS_SMTP_CAFILE": str(certs["ca"]),
                                            "PAPERLENS_SMTP_USER": "ana@example.org",
                                            "PAPERLENS_SMTP_PASSWORD": "wrong"})
    with pytest.raises(MailError, match=rf"cannot send through {address} \({security}\)"):
        send(settings, message())
    assert not inbox.messages and inbox.logins and inbox.logins[0][2] is not None


@pytest.mark.parametrize("trust", ["system", "other"])
def test_untrusted_certificate_is_one_sentence_naming_host_and_port(tls_server, certs, trust):
    security, inbox, address = tls_server
    env = {"PAPERLENS_SMTP_SECURITY": security, "PAPERLENS_SMTP_USER": "ana@example.org",
           "PAPERLENS_SMTP_PASSWORD": "app-password"}
    if trust == "other":
        env["PAPERLENS_SMTP_CAFILE"] = str(certs["other_ca"])
    with pytest.raises(MailError) as caught:
        send(SmtpSettings.parse(address, env), message())
    text = str(caught.value)
    assert f"cannot send through {address} ({security})" in text
    assert "certificate is not trusted" in text and "PAPERLENS_SMTP_CAFILE" in text
    assert "\n" not in text and "Traceback" not in text
    assert not inbox.messages and not inbox.logins  # nothing, the password least of all, was sent


def test_plain_connection_to_a_starttls_server_never_sends_the_password(certs):
    inbox = Inbox()
    port = free_port()
    controller = aiosmtpd.Controller(inbox, hostname="127.0.0.1", port=port, tls_context=certs["server_context"],
                                     require_starttls=True, authenticator=inbox)
    controller.start()
    try:
        settings = SmtpSettings.parse(f"127.0.0.1:{port}", {"PAPERLENS_SMTP_USER": "ana@example.org",
                                                             "PAPERLENS_SMTP_PASSWORD": "app-password"})
        assert settings.security == "none"  # the default for 127.0.0.1
        with pytest.raises(MailError, match=rf"cannot send through 127\.0\.0\.1:{port} \(none\)"):
            send(settings, message())
        assert not inbox.logins and not inbox.messages
    finally:
        controller.stop()


def test_unreadable_cafile_is_a_mail_error(tmp_path):
    bad = tmp_path / "not-a-ca.pem"
    bad.write_text("hello", encoding="ascii")
    for path in (bad, tmp_path / "missing.pem"):
        settings = SmtpSettings.parse("127.0.0.1:1", {"PAPERLENS_SMTP_SECURITY": "starttls",
                                                      "PAPERLENS_SMTP_CAFILE": str(path)})
        with pytest.raises(MailError, match="PAPERLENS_SMTP_CAFILE="):
            send(settings, message())
