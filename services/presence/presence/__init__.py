"""Escale presence service: work plans, live status, "where is X", who is on site."""
