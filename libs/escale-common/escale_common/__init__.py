"""Mechanisms every Escale service shares, kept in one place so a fix to one
(a migration lock, a publisher-confirm detail) reaches every service."""
