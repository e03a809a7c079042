"""Two-way sync between Escale bookings and calendar servers (CalDAV, EWS, Graph).

``backend`` is the port every protocol implements; the engine modules decide
what a remote item means for Escale, with no I/O.
"""
