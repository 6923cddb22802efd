"""Errors of the local environment the CLI prints as one line (never a traceback)."""

from __future__ import annotations


class LocalEnvironmentError(Exception):
    """Bad input or an environment that cannot start; the message is one plain sentence."""
