"""Adapters of the gateway to the outside systems it owns (its token store)."""
