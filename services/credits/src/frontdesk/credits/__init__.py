"""The credits service: credit products and packages, the credit ledger, memberships."""
