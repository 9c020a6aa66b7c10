"""Composing and sending one e-mail: the SMTP settings and connection, the Message-ID
(the same for the same mail_key, every time), the message itself, and the test message.

The outbox's claiming, sending and marking is `notifications/delivery.py`.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from notifications.kinds import LABELS, SENTENCES, Kind
from notifications.models import Notification
from trygg import crypto, keys, settings
from trygg.accounts.service import password_codes
from trygg.extensions import utcnow
from trygg.i18n import gettext as _

log = logging.getLogger("trygg.mail")


# -- SMTP -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    security: str
    user: str
    password: str
    sender: str
    timeout: int
    base_url: str

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any]) -> MailSettings:
        password = cfg["smtp_password"]
        if cfg["smtp_password_file"]:
            lines = Path(cfg["smtp_password_file"]).read_text().splitlines()
            password = lines[0] if lines else ""
        return cls(
            host=cfg["smtp_host"],
            port=cfg["smtp_port"],
            security=cfg["smtp_security"],
            user=cfg["smtp_user"],
            password=password,
            sender=cfg["mail_from"],
            timeout=cfg["smtp_timeout_seconds"],
            base_url=settings.base_url(cfg),
        )

    @property
    def domain(self) -> str:
        return self.sender.rsplit("@", 1)[-1].strip("> ") or "trygg.invalid"


def current_settings() -> MailSettings:
    return MailSettings.from_config(current_app.config["TRYGG"])


@contextmanager
def smtp_connection(cfg: MailSettings) -> Iterator[smtplib.SMTP]:
    """An open, logged-in SMTP connection (STARTTLS, implicit TLS or plain)."""
    context = ssl.create_default_context()
    client: smtplib.SMTP
    if cfg.security == "ssl":
        client = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=context)
    else:
        client = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
    try:
        client.ehlo()
        if cfg.security == "starttls":
            client.starttls(context=context)
            client.ehlo()
        if cfg.user:
            client.login(cfg.user, cfg.password)
        yield client
    finally:
        try:
            client.quit()
        except (smtplib.SMTPException, OSError):
            client.close()


# -- composing --------------------------------------------------------------------------


def message_id(mail_key: str, domain: str) -> str:
    """The e-mail's Message-ID: the same for the same mail_key, every time."""
    digest = crypto.keyed_hash(keys.keyring().derive("message-id"), mail_key)[:40]
    return f"<{digest}@{domain}>"


def _item(row: Notification, cfg: MailSettings) -> dict[str, Any]:
    item: dict[str, Any] = {
        "sentence": str(SENTENCES.get(row.kind, "")),
        "url": cfg.base_url + row.link,
        "action": _("Log in to read it"),
    }
    if row.kind == Kind.PASSWORD_CODE:
        # The one e-mail with a secret in it: to the account's own address only.
        item["code"] = password_codes.code_for_mail(row.user_id) or _(
            "(no longer valid: ask for a new one)"
        )
        item["action"] = _("Choose your password")
    return item


def compose(
    rows: list[Notification], address: str, language: str, cfg: MailSettings, now: datetime
) -> EmailMessage:
    """The e-mail for one mail_key: the kind of event and a link, nothing else."""
    mail_key = rows[0].mail_key or rows[0].dedupe_key
    with force_locale(language):
        items = [_item(r, cfg) for r in rows]
        digest = mail_key.startswith("digest:")
        if digest:
            subject = _("Trygg: %(n)s new notifications", n=len(rows))
        else:
            subject = "Trygg: " + str(LABELS.get(rows[0].kind, ""))
        context = {
            "items": items,
            "digest": digest,
            "settings_url": cfg.base_url + "/notifications/settings",
            "lang": language,
            "subject": subject,
        }
        text = render_template("notifications/mail/message.txt", **context)
        html = render_template("notifications/mail/message.html", **context)
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = cfg.sender
    message["To"] = address
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(mail_key, cfg.domain)
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_test(address: str) -> str:
    """Send a test message at once (`trygg mail test`); returns its Message-ID."""
    cfg = current_settings()
    now = utcnow()
    message = EmailMessage()
    message["Subject"] = "Trygg: test"
    message["From"] = cfg.sender
    message["To"] = address
    message["Date"] = format_datetime(now)
    message["Message-ID"] = message_id(f"test:{now.isoformat()}", cfg.domain)
    message.set_content(f"Trygg can send e-mail.\n\n{cfg.base_url}\n")
    if not cfg.host:
        log.warning("mail: no smtp_host; would send a test message to %s", address)
        return str(message["Message-ID"])
    with smtp_connection(cfg) as client:
        client.send_message(message)
    return str(message["Message-ID"])
