"""Adapters to the outside: PostgreSQL (durable plans), Redis (read model), RabbitMQ."""
