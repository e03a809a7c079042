#!/usr/bin/env bash
# Run the whole Escale system on this machine with the demo site:
# migrate and declare the broker's queues (`escale db upgrade`), seed, issue
# demo tokens, start REPLICAS booking, presence and notify processes and
# gateways, let the demo colleagues plan and book their coming days, print
# how to use them, and stop everything on Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"
REPLICAS=${REPLICAS:-1}
PORT=${ESCALE_GATEWAY_PORT:-8080}
LOGS=.run/logs
mkdir -p "$LOGS"

escale db upgrade
escale demo seed
AGENT_TOKEN=$(escale token create --email agent.demo@mairie-exemple.fr --role agent --label "make run")
ADMIN_TOKEN=$(escale token create --email admin.demo@mairie-exemple.fr --role admin --label "make run")
printf '%s\n' "$AGENT_TOKEN" > .run/agent.token
printf '%s\n' "$ADMIN_TOKEN" > .run/admin.token

pids=()
stop() {
  trap - INT TERM EXIT
  echo "Stopping Escale..." >&2
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap stop INT TERM EXIT

wait_ready() {  # url, name
  for _ in $(seq 1 150); do
    if python -c "import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=1)" "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.2
  done
  echo "$2 did not become ready; see $LOGS" >&2
  exit 1
}

for i in $(seq 1 "$REPLICAS"); do
  http="127.0.0.1:$((8100 + i))"
  ESCALE_BOOKING_HTTP=$http nameko run booking.service --config services/booking/config.yaml \
    >"$LOGS/booking-$i.log" 2>&1 &
  pids+=($!)
  wait_ready "http://$http/readyz" "booking service $i"
done

# --- presence: REPLICAS processes on ports 8111.. (they share the work and the
# read model; its database is created and migrated by `escale db upgrade`)
for i in $(seq 1 "$REPLICAS"); do
  http="127.0.0.1:$((8110 + i))"
  ESCALE_PRESENCE_HTTP=$http nameko run presence.service --config services/presence/config.yaml \
    >"$LOGS/presence-$i.log" 2>&1 &
  pids+=($!)
  wait_ready "http://$http/readyz" "presence service $i"
done

# --- notify: a local SMTP sink that logs every message, then the service -----
# (set ESCALE_SMTP_HOST/PORT to use a real relay instead of the sink)
SMTP_PORT=${ESCALE_SMTP_PORT:-1025}
if [ -z "${ESCALE_SMTP_HOST:-}" ]; then
  python -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Debugging \
    >"$LOGS/mail.log" 2>&1 &
  pids+=($!)
fi
# REPLICAS notify processes on ports 8121..: their timers claim rows, so a
# message is sent once whatever their number.
for i in $(seq 1 "$REPLICAS"); do
  notify_http="127.0.0.1:$((8120 + i))"
  ESCALE_NOTIFY_HTTP=$notify_http ESCALE_SMTP_HOST=${ESCALE_SMTP_HOST:-127.0.0.1} \
    ESCALE_SMTP_PORT=$SMTP_PORT nameko run notify.service --config services/notify/config.yaml \
    >"$LOGS/notify-$i.log" 2>&1 &
  pids+=($!)
  wait_ready "http://$notify_http/readyz" "notify service $i"
done
# The Matrix bot, when a homeserver is configured (ESCALE_MATRIX_HOMESERVER,
# ESCALE_MATRIX_USER_ID, ESCALE_MATRIX_PASSWORD or _ACCESS_TOKEN).
if [ -n "${ESCALE_MATRIX_HOMESERVER:-}" ]; then
  bot_http="127.0.0.1:$((8103 + REPLICAS))"
  ESCALE_MATRIX_BOT_HTTP=$bot_http python -m notify.matrix_bot >"$LOGS/matrix-bot.log" 2>&1 &
  pids+=($!)
  wait_ready "http://$bot_http/readyz" "Matrix bot"
fi

gateways=()
for i in $(seq 1 "$REPLICAS"); do
  port=$((PORT + i - 1))
  ESCALE_GATEWAY_PORT=$port python -m gateway >"$LOGS/gateway-$i.log" 2>&1 &
  pids+=($!)
  wait_ready "http://127.0.0.1:$port/readyz" "gateway $i"
  gateways+=("http://127.0.0.1:$port")
done

# The demo colleagues' coming days (patterns, desk bookings, check-ins), through
# the running services; a second run asks for the same and changes nothing.
escale demo week

cat <<EOT

Escale is running (${REPLICAS} process(es) each of booking, presence and notify; gateway(s): ${gateways[*]}).

  Web app (sign in with a demo email below): http://127.0.0.1:${PORT}/app/
  API documentation (try it with a token): http://127.0.0.1:${PORT}/api/v1/docs
  Demo agent  (Camille Demo, DSI):  agent.demo@mairie-exemple.fr
      token: ${AGENT_TOKEN}
  Demo admin  (Dominique Admin):    admin.demo@mairie-exemple.fr
      token: ${ADMIN_TOKEN}
  (tokens are also in .run/agent.token and .run/admin.token)

  Try:  curl -H "Authorization: Bearer \$(cat .run/agent.token)" http://127.0.0.1:${PORT}/api/v1/sites
  Presence: curl -H "Authorization: Bearer \$(cat .run/agent.token)" "http://127.0.0.1:${PORT}/api/v1/presence"
  Mail: notify sends confirmations to a local SMTP sink; read them in ${LOGS}/mail.log
  Logs: ${LOGS}/    Stop: Ctrl-C
EOT

wait -n "${pids[@]}"
echo "A process stopped; see $LOGS" >&2
