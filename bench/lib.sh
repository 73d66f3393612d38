# Sourced by the bench scripts: helpers they share. Needs curl.

# wait_dev_ready PID DATA PORT LOG NAME: waits (60 s at most) until the
# `authok dev` process PID has written DATA/bootstrap.json and answers
# /readyz on 127.0.0.1:PORT; if it does not (or exits), prints LOG and
# fails, naming the script NAME.
wait_dev_ready() {
	local pid=$1 data=$2 port=$3 log=$4 name=$5
	for _ in $(seq 1 600); do
		if [ -s "$data/bootstrap.json" ] && curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1; then return 0; fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$log" >&2
	echo "$name: authok dev did not become ready" >&2
	return 1
}
