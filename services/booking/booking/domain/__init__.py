"""Plain-Python booking domain: no I/O, no nameko, unit-tested in milliseconds."""
