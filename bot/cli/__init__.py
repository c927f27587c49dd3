"""The `sunset` command line."""
