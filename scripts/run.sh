#!/usr/bin/env bash
# Run the whole Escale system on this machine with the demo site:
# migrate, seed, issue demo tokens, start REPLICAS booking processes and
# gateways, print how to use them, and stop everything on Ctrl-C.
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

gateways=()
for i in $(seq 1 "$REPLICAS"); do
  port=$((PORT + i - 1))
  ESCALE_GATEWAY_PORT=$port python -m gateway >"$LOGS/gateway-$i.log" 2>&1 &
  pids+=($!)
  wait_ready "http://127.0.0.1:$port/readyz" "gateway $i"
  gateways+=("http://127.0.0.1:$port")
done

cat <<EOT

Escale is running (${REPLICAS} booking process(es), gateway(s): ${gateways[*]}).

  API documentation (try it with a token): http://127.0.0.1:${PORT}/api/v1/docs
  Demo agent  (Camille Demo, DSI):  agent.demo@mairie-exemple.fr
      token: ${AGENT_TOKEN}
  Demo admin  (Dominique Admin):    admin.demo@mairie-exemple.fr
      token: ${ADMIN_TOKEN}
  (tokens are also in .run/agent.token and .run/admin.token)

  Try:  curl -H "Authorization: Bearer \$(cat .run/agent.token)" http://127.0.0.1:${PORT}/api/v1/sites
  Logs: ${LOGS}/    Stop: Ctrl-C
EOT

wait -n "${pids[@]}"
echo "A process stopped; see $LOGS" >&2
