"""Email over SMTP (aiosmtplib), one conversation per message, in steps so the outcome
is known precisely: a refusal before DATA (or a reply to DATA) is an answer (4xx: later,
5xx: never); a connection lost while the message itself was being sent leaves the
outcome unknown, and the message is not sent again."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage

import aiosmtplib

from frontdesk.notifications.domain.messages import (
    Accepted,
    Outcome,
    Transient,
    Unknown,
    classify_smtp,
)
from frontdesk.notifications.domain.senders import EmailSender
from frontdesk.notifications.settings import NotificationsSettings


def message_id(message_id_hint: str) -> str:
    return f"<{message_id_hint}@frontdesk>"


class Mailer:
    def __init__(self, settings: NotificationsSettings) -> None:
        self._settings = settings

    async def __aenter__(self) -> Mailer:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    def _connection(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.smtp_host,
            port=s.smtp_port,
            timeout=s.smtp_timeout_seconds,
            use_tls=s.smtp_security == "tls",
            start_tls=s.smtp_security == "starttls",
        )

    async def send(
        self,
        sender: EmailSender,
        *,
        to: str,
        subject: str,
        body: str,
        reply_to: str | None,
        message_key: str,
    ) -> Outcome:
        mail = EmailMessage()
        mail["From"] = sender.from_
        mail["To"] = to
        mail["Subject"] = subject
        if reply_to:
            mail["Reply-To"] = reply_to
        mail["Message-ID"] = message_id(message_key)
        mail["Date"] = email.utils.formatdate(localtime=False, usegmt=True)
        mail.set_content(body)
        envelope_from = email.utils.parseaddr(sender.from_)[1] or sender.from_
        smtp = self._connection()
        s = self._settings
        try:
            try:
                await smtp.connect()
                if s.smtp_username and s.smtp_password is not None:
                    await smtp.login(s.smtp_username, s.smtp_password.get_secret_value())
                await smtp.mail(envelope_from)
                await smtp.rcpt(to)
            except aiosmtplib.SMTPResponseException as error:
                return classify_smtp(error.code, error.message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                return Transient("connect", f"could not reach the mail server: {error!r}")
            try:
                await smtp.data(mail.as_bytes())
            except aiosmtplib.SMTPResponseException as error:
                return classify_smtp(error.code, error.message)
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                return Unknown(f"the mail server did not answer the message: {error!r}")
            return Accepted(message_id(message_key))
        finally:
            if smtp.is_connected:
                try:
                    await smtp.quit()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    smtp.close()
