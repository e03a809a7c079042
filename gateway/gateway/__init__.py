"""Escale gateway: the only public door of the system.

HTTP API under ``/api/v1`` (aiohttp), authentication by bearer token,
authorisation policy, input validation, OpenAPI document, and an asyncio
client that speaks nameko's RPC protocol to the services over RabbitMQ.
"""
