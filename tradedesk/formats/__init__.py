"""Django format modules (FORMAT_MODULE_PATH): the admin's times with seconds and zone, in every language."""
