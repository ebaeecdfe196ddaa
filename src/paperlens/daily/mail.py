"""Digest emails: an HTML message with a plain-text part, sent through SMTP (STARTTLS, SSL or plain).

Credentials come from the environment, never from the command line:
  PAPERLENS_SMTP_USER, PAPERLENS_SMTP_PASSWORD  login (optional: no login without a user)
  PAPERLENS_SMTP_FROM                           the From address (default: the user, else paperlens@localhost)
  PAPERLENS_SMTP_SECURITY                       starttls | ssl | none (default: ssl on port 465, else starttls;
                                                none for a server on 127.0.0.1/localhost)
  PAPERLENS_SMTP_CAFILE                         a PEM file of CA certificates to trust besides the system's
                                                (a private CA or a self-signed server certificate)

With starttls and ssl the server's certificate is always verified, host name included: a server whose
certificate is signed by a private CA needs PAPERLENS_SMTP_CAFILE (loaded with
SSLContext.load_verify_locations), never verification turned off. An untrusted certificate is a MailError
naming HOST:PORT, and the login (when there is one) is only sent once the channel is encrypted.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

SECURITIES = ("starttls", "ssl", "none")


class MailError(Exception):
    """The message could not be sent; one sentence."""


class PartlyRefused(MailError):
    """The server took the message for some recipients and refused the others (`refused`: address ->
    (code, reply)): it went out, so it must not be sent again to those who got it."""

    def __init__(self, message: str, refused: dict[str, tuple[int, bytes]], accepted: list[str]):
        super().__init__(message)
        self.refused, self.accepted = refused, accepted


@dataclass
class SmtpSettings:
    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = None
    sender: str = "paperlens@localhost"
    timeout: float = 30.0
    cafile: str | None = None  # extra CA certificates to trust (PEM)

    @classmethod
    def parse(cls, address: str, env: dict[str, str] | None = None) -> SmtpSettings:
        """`HOST:PORT` (or HOST: port 587) with the PAPERLENS_SMTP_* environment."""
        env = os.environ if env is None else env
        host, _, port_text = (address or "").strip().rpartition(":") if ":" in address else (address, "", "587")
        host = host.strip("[]")
        if not host:
            raise MailError(f"--smtp {address!r}: give HOST:PORT (e.g. smtp.example.org:587)")
        try:
            port = int(port_text)
        except ValueError as exc:
            raise MailError(f"--smtp {address!r}: the port is not a number") from exc
        if not 0 < port < 65536:
            raise MailError(f"--smtp {address!r}: the port is out of range")
        local = host in ("127.0.0.1", "localhost", "::1")
        security = (env.get("PAPERLENS_SMTP_SECURITY") or ("ssl" if port == 465 else "none" if local
                                                          else "starttls")).lower()
        if security not in SECURITIES:
            raise MailError(f"PAPERLENS_SMTP_SECURITY={security!r}: use one of {', '.join(SECURITIES)}")
        user = env.get("PAPERLENS_SMTP_USER") or None
        return cls(host, port, security, user, env.get("PAPERLENS_SMTP_PASSWORD") or None,
                   env.get("PAPERLENS_SMTP_FROM") or user or "paperlens@localhost",
                   cafile=env.get("PAPERLENS_SMTP_CAFILE") or None)

    def tls_context(self) -> ssl.SSLContext:
        """The system's trusted CAs, plus PAPERLENS_SMTP_CAFILE's; certificates and host names verified."""
        context = ssl.create_default_context()
        if self.cafile:
            try:
                context.load_verify_locations(cafile=self.cafile)
            except (OSError, ssl.SSLError) as exc:
                raise MailError(f"PAPERLENS_SMTP_CAFILE={self.cafile!r}: not a readable PEM file of CA "
                                f"certificates ({exc})") from exc
        return context


def build_message(sender: str, recipients: list[str], subject: str, text: str, html: str,
                  message_key: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    # The same digest always has the same Message-ID, so a mail client folds an accidental resend.
    message["Message-ID"] = make_msgid(idstring=message_key.replace("/", "-")[:60], domain="paperlens.local")
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send(settings: SmtpSettings, message: EmailMessage) -> None:
    where = f"{settings.host}:{settings.port}"
    context = settings.tls_context() if settings.security != "none" else None
    try:
        if settings.security == "ssl":
            client: smtplib.SMTP = smtplib.SMTP_SSL(settings.host, settings.port, timeout=settings.timeout,
                                                    context=context)
        else:
            client = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with client:
            if settings.security == "starttls":
                client.starttls(context=context)
            if settings.user:
                client.login(settings.user, settings.password or "")
            refused = client.send_message(message)
        if refused:
            detail = ", ".join(f"{address} ({code} {_reply(reply)})" for address, (code, reply) in refused.items())
            accepted = [a for a in _recipients(message) if a not in refused]
            raise PartlyRefused(f"{where} refused {detail}", refused, accepted)
    except ssl.SSLCertVerificationError as exc:
        raise MailError(f"cannot send through {where} ({settings.security}): its certificate is not trusted "
                        f"({exc.verify_message}); if it comes from a private CA, point PAPERLENS_SMTP_CAFILE "
                        "at that CA's certificate (PEM)") from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(f"cannot send through {where} ({settings.security}): {exc}") from exc


def _reply(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)
    return " ".join(text.split())[:120]


def _recipients(message: EmailMessage) -> list[str]:
    from email.utils import getaddresses

    return [address for _, address in getaddresses(message.get_all("To", []))]
