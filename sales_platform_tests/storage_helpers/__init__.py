"""Helpers for the storage tests: worker processes (writer loops, readers) and scenarios."""
