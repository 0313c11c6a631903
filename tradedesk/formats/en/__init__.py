"""The en format module."""
