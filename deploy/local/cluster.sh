#!/usr/bin/env bash
# A local multi-process cluster on loopback: three control-plane voters
# (c1, c2, c3) and one edge (e1), each its own authok process.
#
#   deploy/local/cluster.sh [data-root]      (default: data/cluster in the repository)
#
# The first run creates the cluster (c1 bootstraps it, c2, c3 and e1 join);
# a later run on the same data root starts that cluster again. Ctrl-C,
# SIGTERM or SIGHUP stops every node (the edge first), at any moment,
# start-up included; the nodes' pids are printed as they start. Each node logs
# to <data-root>/<node>.log; the terminal gets the URLs once the cluster is up.
# (Started with & from another script, bash makes it ignore SIGINT: use
# SIGTERM there.)
#
# Needs curl (readiness checks). Environment, all optional:
#   AUTHOK_BIN                  authok binary to run (default: `make build`, then bin/authok)
#   AUTHOK_LOCAL_EDGE_PORT      HTTP port of the edge, the public URL and issuer (default 8080)
#   AUTHOK_LOCAL_CONTROL_PORT   HTTP port of c1; c2 and c3 take the next two (default 9001)
#   AUTHOK_LOCAL_RAFT_PORT      Raft port of c1; c2 and c3 take the next two, e1 this + 100 (default 7001)
#   AUTHOK_LOCAL_READY_TIMEOUT  seconds to wait for every node to be ready (default 90)
#   AUTHOK_CLUSTER_SECRET       (or AUTHOK_CLUSTER_SECRET_FILE) default: generated once into <data-root>/cluster.secret
#   AUTHOK_MASTER_KEY           default: generated once into <data-root>/master.key
set -euo pipefail
umask 077 # node logs hold the management client's secret on the first run

say() { printf 'cluster.sh: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

repo=$(cd "$(dirname "$0")/../.." && pwd)
root=${1:-$repo/data/cluster}
mkdir -p "$root"
root=$(cd "$root" && pwd)

edge_port=${AUTHOK_LOCAL_EDGE_PORT:-8080}
control_port=${AUTHOK_LOCAL_CONTROL_PORT:-9001}
raft_port=${AUTHOK_LOCAL_RAFT_PORT:-7001}
ready_timeout=${AUTHOK_LOCAL_READY_TIMEOUT:-90}
for v in "$edge_port" "$control_port" "$raft_port" "$ready_timeout"; do
  [[ $v =~ ^[0-9]+$ ]] || die "not a number: '$v' (see the settings at the top of $0)"
done

command -v curl >/dev/null || die "curl is needed for the readiness checks; install it (e.g. apt-get install curl)"

# Children: the nodes, and the one helper (build, curl, sleep) being waited
# for. They are waited for in the background (cmd & wait), so a signal runs
# the trap at once instead of after the command ends. A helper runs in a
# process group of its own (set -m), so that stopping it stops what it
# started (make's go build).
names=() pids=() helper=
run_helper() {
  set -m
  "$@" &
  helper=$!
  set +m
  local status=0
  wait "$helper" || status=$?
  helper=
  return "$status"
}
nap() { run_helper sleep "$1"; }
alive() { kill -0 "$1" 2>/dev/null; }

# terminate PID...: SIGTERM, then SIGKILL for what is left after 20 s (or
# at once after a second Ctrl-C).
# shellcheck disable=SC2317 # called from the EXIT trap
terminate() {
  kill -TERM "$@" 2>/dev/null || true
  local deadline=$((SECONDS + 20)) pid left
  while :; do
    left=()
    for pid in "$@"; do alive "$pid" && left+=("$pid"); done
    [ ${#left[@]} -gt 0 ] || return 0
    if [ -n "$force" ] || [ "$SECONDS" -ge "$deadline" ]; then
      say "killing what did not stop: ${left[*]}"
      kill -KILL "${left[@]}" 2>/dev/null || true
      return 0
    fi
    sleep 0.1
  done
}

# cleanup stops the edge first, so it ships its last log events to a
# control plane still up, then the voters.
stopping='' force=''
# shellcheck disable=SC2317 # the EXIT trap
cleanup() {
  [ -z "$stopping" ] || return 0
  stopping=1
  trap 'force=1' INT TERM HUP # a second Ctrl-C skips the graceful stop
  if [ -n "$helper" ]; then
    kill -TERM -- "-$helper" 2>/dev/null || true
    wait "$helper" 2>/dev/null || true
  fi
  [ ${#pids[@]} -gt 0 ] || return 0
  say "stopping ${names[*]}"
  local i edge=() voters=()
  for i in "${!pids[@]}"; do
    if [ "${names[$i]}" = e1 ]; then edge+=("${pids[$i]}"); else voters+=("${pids[$i]}"); fi
  done
  [ ${#edge[@]} -eq 0 ] || terminate "${edge[@]}"
  [ ${#voters[@]} -eq 0 ] || terminate "${voters[@]}"
  wait "${pids[@]}" 2>/dev/null || true
  say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

if [ -n "${AUTHOK_BIN:-}" ]; then
  bin=$AUTHOK_BIN
else
  say "building bin/authok (make build)"
  run_helper make -C "$repo" build >/dev/null || die "make build failed"
  bin=$repo/bin/authok
fi
[ -x "$bin" ] || die "no authok binary at $bin"

# The cluster secret and master key must be the same on every node and on
# every run: generated once, kept in the data root, passed by environment.
secret_file=''
if [ -n "${AUTHOK_CLUSTER_SECRET:-}" ]; then
  : # the user's own, for the members command too
elif [ -n "${AUTHOK_CLUSTER_SECRET_FILE:-}" ]; then
  secret_file=$AUTHOK_CLUSTER_SECRET_FILE
else
  secret_file=$root/cluster.secret
  [ -s "$secret_file" ] || head -c 24 /dev/urandom | base64 >"$secret_file"
fi
if [ -n "$secret_file" ]; then
  AUTHOK_CLUSTER_SECRET=$(cat "$secret_file") || die "cannot read the cluster secret from $secret_file"
  secret_from="--cluster-secret-file $secret_file " secret_note=''
else
  secret_from='' secret_note="   (with the same AUTHOK_CLUSTER_SECRET exported)"
fi
unset AUTHOK_CLUSTER_SECRET_FILE # a node refuses it beside AUTHOK_CLUSTER_SECRET
if [ -z "${AUTHOK_MASTER_KEY:-}" ]; then
  if [ ! -s "$root/master.key" ]; then
    [ ! -d "$root/c1/state" ] || die "$root holds a cluster but no master.key: it was created with AUTHOK_MASTER_KEY in the environment; export the same key again"
    head -c 32 /dev/urandom | base64 >"$root/master.key"
  fi
  AUTHOK_MASTER_KEY=$(cat "$root/master.key")
fi
export AUTHOK_CLUSTER_SECRET AUTHOK_MASTER_KEY

host=127.0.0.1
edge_url=http://$host:$edge_port
issuer=$edge_url/
control_urls=()
for i in 1 2 3; do control_urls+=("http://$host:$((control_port + i - 1))"); done
control_list=$(IFS=,; echo "${control_urls[*]}")

# start NAME ROLE ARGS...: one node in the background, its output in its
# log, in a process group of its own (set -m): a terminal's Ctrl-C reaches
# the script alone, which stops the nodes in order.
start() {
  local name=$1 role=$2
  shift 2
  local cmd=("$bin" "$role" --node-id "$name" --data-dir "$root/$name" --issuer "$issuer" "$@")
  printf '\n== %s: %s\n' "$(date -u +%FT%TZ)" "${cmd[*]}" >>"$root/$name.log"
  set -m
  "${cmd[@]}" </dev/null >>"$root/$name.log" 2>&1 &
  set +m
  names+=("$name")
  pids+=($!)
}

if [ -f "$root/c1/bootstrap.json" ]; then state="existing cluster"; else state="new cluster"; fi
say "starting the $state in $root (logs: $root/<node>.log)"
# All voters start together: on a restart c1 ignores --bootstrap (it has
# Raft state) and no node can win an election alone, so none waits for
# another here. On a new cluster c2, c3 and e1 retry their join until c1
# has bootstrapped.
start c1 control --raft-addr "$host:$raft_port" --http-addr "$host:$control_port" --bootstrap
for i in 2 3; do
  start "c$i" control --raft-addr "$host:$((raft_port + i - 1))" --http-addr "$host:$((control_port + i - 1))" --join "${control_urls[0]}"
done
start e1 edge --raft-addr "$host:$((raft_port + 100))" --http-addr "$host:$edge_port" --join "${control_urls[0]}" --control-url "$control_list"
started=''
for i in "${!pids[@]}"; do started+="${started:+, }${names[$i]} (pid ${pids[$i]})"; done
say "nodes started: $started; waiting for them to be ready"

# Wait for every node's /readyz; a node that exits meanwhile ends the wait.
urls=("${control_urls[@]}" "$edge_url")
deadline=$((SECONDS + ready_timeout))
pending=(0 1 2 3)
while [ ${#pending[@]} -gt 0 ]; do
  for i in "${!pids[@]}"; do
    alive "${pids[$i]}" && continue
    status=0
    wait "${pids[$i]}" || status=$?
    say "${names[$i]} exited (status $status) during start-up; the end of $root/${names[$i]}.log:"
    tail -n 15 "$root/${names[$i]}.log" >&2
    exit 1
  done
  still=()
  for i in "${pending[@]}"; do
    run_helper curl -sf --noproxy "*" -o /dev/null --max-time 2 "${urls[$i]}/readyz" || still+=("$i")
  done
  pending=(${still[@]+"${still[@]}"})
  [ ${#pending[@]} -gt 0 ] || break
  if [ "$SECONDS" -ge "$deadline" ]; then
    not=()
    for i in "${pending[@]}"; do not+=("${names[$i]}"); done
    die "not ready after ${ready_timeout}s: ${not[*]} (see $root/<node>.log; AUTHOK_LOCAL_READY_TIMEOUT sets the wait)"
  fi
  nap 0.2
done

run_helper "$bin" members --url "${control_urls[0]}" || say "listing the members failed (see above)"
cat <<EOF

cluster up ($state): 3 control voters and 1 edge
  edge (public)   $edge_url   issuer $issuer
                  token endpoint ${issuer}oauth/token, Management API ${edge_url}/api/v1 (proxied)
  control         ${control_urls[*]}
  data dirs       $root/c1 $root/c2 $root/c3 $root/e1
  logs            $root/c1.log ... $root/e1.log   (tail -f $root/*.log)
  management API client (created on the first run): $root/c1/bootstrap.json
  members         $bin members ${secret_from}--url ${control_urls[0]}$secret_note
Ctrl-C stops every node; running this again on $root starts the same cluster.
EOF

# Keep running while any node does; say when one exits (stopping a node by
# hand to watch the others carry on is fine).
while [ ${#pids[@]} -gt 0 ]; do
  nap 1
  for i in "${!pids[@]}"; do
    alive "${pids[$i]}" && continue
    status=0
    wait "${pids[$i]}" || status=$?
    say "${names[$i]} exited (status $status); see $root/${names[$i]}.log"
    unset "pids[$i]" "names[$i]"
  done
  pids=(${pids[@]+"${pids[@]}"}) names=(${names[@]+"${names[@]}"})
done
say "every node has exited"
exit 1
