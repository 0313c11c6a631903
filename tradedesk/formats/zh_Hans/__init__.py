"""The zh_Hans format module."""
