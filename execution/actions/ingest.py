"""The ingest door: read the engines' events files into the ledger (all of them, one, or before a read)."""

from execution.ingest.events import ingest_before_read, ingest_execution_events, ingest_file

__all__ = ["ingest_before_read", "ingest_execution_events", "ingest_file"]
