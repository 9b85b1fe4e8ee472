"""Credits rules: aggregates that own their state changes and record the events they
cause. No FastAPI, SQLAlchemy or aio-pika; errors are the kit's domain errors.

- ``packages``: a credit Package (balance, expiry, pause/resume, extend, debit/refund,
  top-up) and the ledger entries each change writes.
- ``accounts``: the customer's credit Account (a debit across the usable packages).
- ``debits``: one booking's debit in the saga (debited, rejected, refunded, forfeited).
- ``memberships``: a Membership (assign, renew, change plan, freeze, cancel, expire).
- ``catalogue``: what is sold or offered: credit products and membership plans.
- ``programs``: program products and Programs (N sessions of a kind, booked against).
- ``loyalty``: the tenant's LoyaltyRule, a customer's LoyaltyAccount, redemptions.
- ``merges``: a CustomerMerge as credits applies and undoes it.
"""

from __future__ import annotations

SYSTEM = "system"  # the actor of what no person did: the expiry sweep, other services' events
