"""The presence domain: plain Python, no I/O, no nameko.

``precedence`` decides what a person's status is at a moment from the
signals it is given; ``plans`` which plan applies to a half-day;
``privacy`` who may see it; ``reach`` how to contact them; ``search`` finds
people by name; ``events`` are the facts the service publishes.
"""
