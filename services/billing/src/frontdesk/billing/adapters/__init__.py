"""Storage and outside systems: ``tables.py``, one repository per aggregate (every SQL
query of the service), the ledger's sums, the document counters and the PDF renderer."""
