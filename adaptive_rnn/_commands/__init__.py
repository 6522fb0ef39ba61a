"""Subcommands of the `adaptive-rnn` CLI (argument parsing only)."""
