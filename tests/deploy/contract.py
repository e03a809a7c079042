"""What the deployment files agree on, shared by the tests of tests/deploy."""

# The Secret every Escale pod (and Redis) reads, never committed; created by
# deploy/k8s/make-secret.sh or by hand (deploy/k8s/README.md).
SECRET_NAME = "escale-secrets"
SECRET_KEYS = frozenset({
    "ESCALE_AMQP_URI",
    "ESCALE_BOOKING_DATABASE_URL",
    "ESCALE_GATEWAY_DATABASE_URL",
    "ESCALE_REDIS_URL",
    "REDIS_PASSWORD",
})
