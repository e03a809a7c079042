"""Email over SMTP: plain text + HTML, and the calendar invitation.

The invitation travels twice, as clients expect: as a ``text/calendar;
method=REQUEST`` (or ``CANCEL``) alternative, which Outlook and Thunderbird
turn into calendar buttons, and as an ``invite.ics`` attachment. The
``method=`` of the Content-Type always matches the calendar's ``METHOD``.
The Message-ID derives from the ledger row, so a replayed message is the
same message to mail clients.

smtplib uses plain sockets, which eventlet makes cooperative in the
service. Failures: connection problems and 4xx answers are temporary
(retried); 5xx answers are permanent (dead-lettered at once).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formataddr, formatdate

from ..settings import Smtp
from .transport import DeliveryFailed

log = logging.getLogger(__name__)


def build(message: dict, sender: str, message_id: str) -> EmailMessage:
    email = EmailMessage()
    email["From"] = sender
    email["To"] = formataddr((message.get("to_name") or "", message["to"]))
    email["Subject"] = message["subject"]
    email["Date"] = formatdate(localtime=False)
    email["Message-ID"] = f"<{message_id}@escale>"
    email["Auto-Submitted"] = "auto-generated"
    email.set_content(message["text"])
    email.add_alternative(message["html"], subtype="html")
    if message.get("ics"):
        method = message["method"]
        email.add_alternative(message["ics"], subtype="calendar", params={"method": method})
        email.add_attachment(message["ics"].encode("utf-8"), maintype="application",
                             subtype="ics", filename="invite.ics")
    # After the body: setting content clears the Content-* headers.
    email["Content-Language"] = message.get("language") or "fr"
    return email


class Mailer:
    def __init__(self, settings: Smtp):
        self.settings = settings

    def send(self, message: dict, delivery_id: str) -> None:
        s = self.settings
        email = build(message, s.sender, delivery_id)
        if s.dry_run:
            log.info("mail (dry run)", extra={"delivery_id": delivery_id,
                                              "method": message.get("method")})
            return
        try:
            # Certificates are verified (host name included), against the
            # system's CAs or ESCALE_SMTP_CA_FILE.
            context = ssl.create_default_context(cafile=s.ca_file or None)
            if s.security == "tls":
                client = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=context)
            else:
                client = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with client:
                if s.security == "starttls":
                    client.starttls(context=context)
                if s.username:
                    client.login(s.username, s.password)
                client.send_message(email)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _ in exc.recipients.values()]
            raise DeliveryFailed(f"recipient refused ({codes})",
                                 permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP {exc.smtp_code}", permanent=exc.smtp_code >= 500) from None
        except ssl.SSLError as exc:
            raise DeliveryFailed(f"TLS failed: {exc.reason or type(exc).__name__}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP unreachable: {type(exc).__name__}") from None
