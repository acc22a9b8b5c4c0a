"""Shared builders and validators for the tests; no test module imports another."""
