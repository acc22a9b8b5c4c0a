"""Shared platform of every G1000 service: envelope, signing, event store, outbox, consumer loop.

Importing this package imports nothing heavy; import the submodules you need.
"""
