"""Fixtures and helpers shared by every test folder (loaded by the root conftest)."""
