"""The only place that loads, decides through the domain, saves, publishes and commits:
``invoices``, ``credit_notes``, ``payments``, ``sources`` (invoices from events),
``ledger`` (statements, balances, entries), ``kpis``, ``profiles``, ``customers``
(the customers billing knows, and erasure); ``books`` is the transaction every change
to a customer's money goes through."""
