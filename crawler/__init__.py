"""Fetching pages over HTTP: the only place govwatch talks to the network."""
