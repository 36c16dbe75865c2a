"""E-mail over SMTP (邮件通知), sent from the notification actor; nothing is sent when SMTP is not
configured.  Uses the standard library's smtplib in a thread."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage

from core.config import get_settings


def _send(host: str, to: str, subject: str, body: str) -> None:
    settings = get_settings()
    message = EmailMessage()
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(host, settings.smtp_port, timeout=15) as smtp:
        if settings.smtp_user:
            smtp.starttls()
            smtp.login(settings.smtp_user, settings.smtp_password or "")
        smtp.send_message(message)


async def send_mail(to: str, subject: str, body: str) -> bool:
    """Send one message; returns False when SMTP is not configured. Errors propagate (the actor retries)."""
    host = get_settings().smtp_host
    if not host or not to:
        return False
    await asyncio.to_thread(_send, host, to, subject, body)
    return True
