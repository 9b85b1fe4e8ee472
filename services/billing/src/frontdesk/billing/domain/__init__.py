"""Billing rules: aggregates that own their state changes and record the events they
cause. No FastAPI, SQLAlchemy or aio-pika; errors are the kit's domain errors.

- ``pricing``: the one rounding rule, per line; membership discounts and included
  services; totals per tax rate.
- ``invoices``: an Invoice (draft, issued with its number, paid, cancelled).
- ``credit_notes``: a CreditNote against an issued invoice (whole or some lines).
- ``payments``: a Payment against an invoice and its Refunds.
- ``ledger``: journal entries (postings that sum to zero) and the accounts.
- ``profiles``: the tenant's billing profile (seller details, currency, language, zone).
- ``numbering``: document numbers (a prefix, the year, a gapless counter).
"""

from __future__ import annotations

SYSTEM = "system"  # the actor of what no person did: invoices made from other services' events
