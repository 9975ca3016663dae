"""Feeds: RSS, Atom and JSON Feed built from the store."""
