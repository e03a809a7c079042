"""Escale booking service: places, people, bookings, rules and their events."""
