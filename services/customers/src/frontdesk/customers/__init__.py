"""The customers service: records, notes, tags, the customer summary, search, export, erasure."""
