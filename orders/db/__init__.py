"""SQL plumbing of the domain, below its services: set-based statements for the ledger (bulk.py: COPY and
unnest row sources, INSERT ... ON CONFLICT, batched UPDATE, a binary psycopg cursor). No business rule lives
here; orders.services decides what to write, this writes it fast."""
