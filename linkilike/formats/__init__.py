"""Date and time formats per language (``FORMAT_MODULE_PATH``); languages not listed use Django's."""
