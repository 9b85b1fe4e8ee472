"""The rules of notifications, without a database or a provider: messages and their
delivery states (``messages``), bookings and their reminders (``bookings``), contacts,
consent and reply keywords (``contacts``), templates (``templates``), senders
(``senders``) and the decision made when a message is sent (``compose``)."""

SYSTEM = "system"
