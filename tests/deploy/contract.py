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
    "ESCALE_NOTIFY_DATABASE_URL",
    "ESCALE_PRESENCE_DATABASE_URL",
    # Optional (empty unless the operator gives them to make-secret.sh):
    # credentials of the mail relay and chat platforms.
    "ESCALE_SMTP_PASSWORD",
    "ESCALE_MATRIX_ACCESS_TOKEN",
    "ESCALE_CHAT_WEBHOOK_URL",
    "ESCALE_CHAT_TEAMS_URL",
    "ESCALE_BOT_SLACK_SIGNING_SECRET",
    "ESCALE_BOT_MATTERMOST_TOKENS",
    "ESCALE_BOT_TEAMS_SECRET",
    # the OpenID client's secret (sign-in by OpenID Connect)
    "ESCALE_OIDC_CLIENT_SECRET",
})
# The keys above that may be left empty.
OPTIONAL_SECRET_KEYS = frozenset({
    "ESCALE_SMTP_PASSWORD", "ESCALE_MATRIX_ACCESS_TOKEN", "ESCALE_CHAT_WEBHOOK_URL",
    "ESCALE_CHAT_TEAMS_URL", "ESCALE_BOT_SLACK_SIGNING_SECRET", "ESCALE_BOT_MATTERMOST_TOKENS",
    "ESCALE_BOT_TEAMS_SECRET",
    # the OpenID client's secret (sign-in by OpenID Connect)
    "ESCALE_OIDC_CLIENT_SECRET",
})
