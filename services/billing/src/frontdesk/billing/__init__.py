"""The billing service: invoices with gapless numbers, payments, credit notes, refunds and
one double-entry ledger from which every balance is summed."""
