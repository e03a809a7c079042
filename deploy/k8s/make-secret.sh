#!/bin/sh
# Create or update the Secret `escale-secrets` in NAMESPACE from the
# credentials the operators generated:
#   escale-postgres-app           (CloudNativePG: owner of both databases)
#   escale-rabbitmq-default-user  (RabbitMQ Cluster Operator)
# and a Redis password, generated once and kept on later runs.
#
#   deploy/k8s/make-secret.sh escale
#
# The mail relay's and chat platforms' credentials are optional: give them
# as environment variables of this script (ESCALE_SMTP_PASSWORD,
# ESCALE_MATRIX_ACCESS_TOKEN, ESCALE_CHAT_WEBHOOK_URL, ESCALE_CHAT_TEAMS_URL,
# ESCALE_BOT_SLACK_SIGNING_SECRET, ESCALE_BOT_MATTERMOST_TOKENS,
# ESCALE_BOT_TEAMS_SECRET) and the OpenID client's secret
# (ESCALE_OIDC_CLIENT_SECRET); a later run without one keeps the value stored.
#
# The values never appear on a command line: they go through a temporary
# file readable by you alone, removed on exit.
set -eu

NS=${1:?usage: $0 NAMESPACE}
KUBECTL=${KUBECTL:-kubectl}
WAIT_SECONDS=${WAIT_SECONDS:-600}

wait_for_secret() {
  waited=0
  until "$KUBECTL" -n "$NS" get secret "$1" >/dev/null 2>&1; do
    if [ "$waited" -ge "$WAIT_SECONDS" ]; then
      echo "make-secret: secret $1 did not appear in namespace $NS after ${WAIT_SECONDS}s;" \
           "is its operator installed and the overlay applied?" >&2
      exit 1
    fi
    sleep 5
    waited=$((waited + 5))
  done
}

field() {  # secret key
  "$KUBECTL" -n "$NS" get secret "$1" -o "jsonpath={.data.$2}" | base64 -d
}

url_safe() {  # name value: refuse what would need escaping inside a URL
  case $2 in
    ''|*[!A-Za-z0-9._~-]*)
      echo "make-secret: $1 is empty or has characters that need URL escaping" >&2
      exit 1 ;;
  esac
}

wait_for_secret escale-postgres-app
wait_for_secret escale-rabbitmq-default-user

pg_user=$(field escale-postgres-app username)
pg_password=$(field escale-postgres-app password)
mq_user=$(field escale-rabbitmq-default-user username)
mq_password=$(field escale-rabbitmq-default-user password)

# Keep the Redis password of an earlier run: Redis reads it at start.
redis_password=$("$KUBECTL" -n "$NS" get secret escale-secrets \
  -o 'jsonpath={.data.REDIS_PASSWORD}' 2>/dev/null | base64 -d || true)
if [ -z "$redis_password" ]; then
  redis_password=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 40)
fi

for pair in "PostgreSQL user:$pg_user" "PostgreSQL password:$pg_password" \
            "RabbitMQ user:$mq_user" "RabbitMQ password:$mq_password" \
            "Redis password:$redis_password"; do
  url_safe "${pair%%:*}" "${pair#*:}"
done

umask 077
env_file=$(mktemp)
trap 'rm -f "$env_file"' EXIT INT TERM
cat >"$env_file" <<ENV
ESCALE_AMQP_URI=amqp://$mq_user:$mq_password@escale-rabbitmq:5672/
ESCALE_BOOKING_DATABASE_URL=postgresql://$pg_user:$pg_password@escale-postgres-rw:5432/escale_booking
ESCALE_GATEWAY_DATABASE_URL=postgresql://$pg_user:$pg_password@escale-postgres-rw:5432/escale_gateway
ESCALE_NOTIFY_DATABASE_URL=postgresql://$pg_user:$pg_password@escale-postgres-rw:5432/escale_notify
ESCALE_PRESENCE_DATABASE_URL=postgresql://$pg_user:$pg_password@escale-postgres-rw:5432/escale_presence
ESCALE_REDIS_URL=redis://:$redis_password@escale-redis:6379/0
REDIS_PASSWORD=$redis_password
ENV

# Optional credentials: from this script's environment, else as stored.
for key in ESCALE_SMTP_PASSWORD ESCALE_MATRIX_ACCESS_TOKEN ESCALE_CHAT_WEBHOOK_URL \
           ESCALE_CHAT_TEAMS_URL ESCALE_BOT_SLACK_SIGNING_SECRET \
           ESCALE_BOT_MATTERMOST_TOKENS ESCALE_BOT_TEAMS_SECRET ESCALE_OIDC_CLIENT_SECRET; do
  value=$(printenv "$key" || true)
  if [ -z "$value" ]; then
    value=$("$KUBECTL" -n "$NS" get secret escale-secrets \
      -o "jsonpath={.data.$key}" 2>/dev/null | base64 -d || true)
  fi
  case $value in
    *"
"*) echo "make-secret: $key must be one line" >&2; exit 1 ;;
  esac
  printf '%s=%s\n' "$key" "$value" >>"$env_file"
done

"$KUBECTL" -n "$NS" create secret generic escale-secrets \
  --from-env-file="$env_file" --dry-run=client -o yaml \
  | "$KUBECTL" -n "$NS" apply -f -
echo "make-secret: escale-secrets written in namespace $NS" >&2
