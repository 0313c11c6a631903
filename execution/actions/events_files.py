"""The events-file doors: rotate one safely (stop, ingest to the end, rename), and replay after a restore."""

from execution.ingest.rotation import events_file_rotate, events_files_for_replay, events_replay

__all__ = ["events_file_rotate", "events_files_for_replay", "events_replay"]
