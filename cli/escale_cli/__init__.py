"""The ``escale`` operator command: migrations, demo data, CSV imports, API tokens.

It is the one piece of Escale allowed to open the stores directly (see
docs/architecture.md); the services themselves talk only over RabbitMQ.
"""
