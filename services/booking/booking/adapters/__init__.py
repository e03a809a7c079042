"""Adapters: the booking service's ways out to PostgreSQL and RabbitMQ."""
