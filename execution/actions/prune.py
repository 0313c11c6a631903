"""The prune door: delete engine files of finished orders older than the retention."""

from execution.retention import execution_files_prune

__all__ = ["execution_files_prune"]
