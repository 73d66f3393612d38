#!/usr/bin/env bash
# A local multi-process cluster: 3 control-plane voters and 1 edge, on
# loopback. Usage: deploy/local/cluster.sh [data-root]   (Ctrl-C stops all)
set -euo pipefail
cd "$(dirname "$0")/../.."
make build >/dev/null
root=${1:-./data/cluster}
mkdir -p "$root"
export AUTHOK_CLUSTER_SECRET=${AUTHOK_CLUSTER_SECRET:-local-cluster-secret-$(id -u)}
if [ -z "${AUTHOK_MASTER_KEY:-}" ]; then
  [ -f "$root/master.key" ] || head -c 32 /dev/urandom | base64 > "$root/master.key"
  export AUTHOK_MASTER_KEY=$(cat "$root/master.key")
fi
issuer=http://127.0.0.1:8080/
pids=()
trap 'kill "${pids[@]}" 2>/dev/null; wait' EXIT INT TERM
bin/authok control --node-id c1 --raft-addr 127.0.0.1:7001 --http-addr 127.0.0.1:9001 --data-dir "$root/c1" --issuer $issuer --bootstrap & pids+=($!)
until curl -sf http://127.0.0.1:9001/readyz >/dev/null; do sleep 0.2; done
for i in 2 3; do
  bin/authok control --node-id c$i --raft-addr 127.0.0.1:700$i --http-addr 127.0.0.1:900$i --data-dir "$root/c$i" --issuer $issuer --join http://127.0.0.1:9001 & pids+=($!)
done
bin/authok edge --node-id e1 --raft-addr 127.0.0.1:7101 --http-addr 127.0.0.1:8080 --data-dir "$root/e1" --issuer $issuer \
  --join http://127.0.0.1:9001 --control-url http://127.0.0.1:9001,http://127.0.0.1:9002,http://127.0.0.1:9003 & pids+=($!)
until curl -sf http://127.0.0.1:8080/readyz >/dev/null; do sleep 0.2; done
bin/authok members --url http://127.0.0.1:9001
echo "cluster up: edge on http://127.0.0.1:8080, control on :9001-9003. Ctrl-C stops it."
wait
