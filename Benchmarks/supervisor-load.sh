#!/usr/bin/env bash
# 100 concurrent agents on one supervisor: all are started at once (one invocation each of an
# agent that waits on a gate directory), then, while all of them run, the control API is timed
# (GET /v1/runs and /healthz), and the supervisor's RSS is read before and during the load to give
# its memory per running agent. The gate opens and every run must succeed.
#
#   Benchmarks/supervisor-load.sh [--agents N] [--probes N]
#
# The issue's bar: all complete; supervisor RSS per running agent <= 2 MiB; control API p99 reported.
set -euo pipefail
cd "$(dirname "$0")/.."
agents=100 probes=200
while [[ $# -gt 0 ]]; do
    case $1 in
        --agents) agents=$2; shift 2 ;;
        --probes) probes=$2; shift 2 ;;
        *) echo "usage: $0 [--agents N] [--probes N]" >&2; exit 2 ;;
    esac
done
warden=${WARDEN_BIN:-.build/release/warden}
if [[ -z ${WARDEN_BIN:-} ]]; then
    swift build -c release --product warden $(Scripts/release-flags) >/dev/null
fi
dir=$(mktemp -d /tmp/warden-load-bench.XXXXXX)
cleanup() { [[ -n ${pid:-} ]] && kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
mkdir -p "$dir/gate"
chmod 755 "$dir" "$dir/gate"
python3 - "$dir" "$PWD/Policies/default.json" <<'PY'
import json, sys
d, policy_path = sys.argv[1], sys.argv[2]
policy = json.load(open(policy_path))
policy["filesystem"]["binds"].append({"source": d + "/gate", "target": "/gate", "readOnly": True})
json.dump(policy, open(d + "/policy.json", "w"))
json.dump({"name": "waiter", "policy": d + "/policy.json",
           "entrypoint": ["/bin/sh", "-c", "while [ ! -e /gate/go ]; do sleep 0.05; done; echo done"],
           "workingDirectory": "/workspace", "environment": {"PATH": "/usr/bin:/bin"}}, open(d + "/waiter.json", "w"))
PY
cat > "$dir/config.json" <<JSON
{"socket": "$dir/w.sock", "stateDirectory": "$dir/state", "traceDirectory": "$dir/traces"}
JSON
"$warden" serve --config "$dir/config.json" 2>"$dir/serve.log" &
pid=$!
for _ in $(seq 200); do [[ -S $dir/w.sock ]] && break; sleep 0.05; done
WARDEN_SOCKET=$dir/w.sock "$warden" deploy "$dir/waiter.json" --concurrency "$agents" --queue-limit 0 >/dev/null
python3 - "$dir" "$pid" "$agents" "$probes" <<'PY'
import http.client, socket, sys, time, json, os
d, pid, agents, probes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])

class UnixConnection(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(d + "/w.sock")

def request(method, target, body=b""):
    c = UnixConnection("localhost")
    c.request(method, target, body=body)
    r = c.getresponse(); data = r.read(); c.close()
    return r.status, data

def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"): return int(line.split()[1])

def runs():
    return json.loads(request("GET", "/v1/runs")[1])["runs"]

base = rss_kib()
start = time.perf_counter()
ids = []
for _ in range(agents):
    status, data = request("POST", "/v1/agents/waiter/invocations", b"")
    assert status == 202, data
    ids.append(json.loads(data)["run"]["id"])
while sum(r["state"] == "running" for r in runs()) < agents: time.sleep(0.05)
ramp = time.perf_counter() - start
loaded = rss_kib()
samples = []
for i in range(probes):
    t = time.perf_counter()
    status, _ = request("GET", "/v1/runs" if i % 2 == 0 else "/healthz")
    assert status == 200
    samples.append((time.perf_counter() - t) * 1000)
samples.sort()
q = lambda p: samples[min(len(samples) - 1, int(p * len(samples)))]
open(d + "/gate/go", "w").close()
while True:
    states = [r["state"] for r in runs()]
    if all(s not in ("queued", "running") for s in states): break
    time.sleep(0.05)
print(f"agents: {agents} started and running after {ramp:.2f} s; outcomes: " +
      ", ".join(f"{s} {states.count(s)}" for s in sorted(set(states))))
print(f"supervisor RSS: idle {base / 1024:.1f} MiB, with {agents} running {loaded / 1024:.1f} MiB, "
      f"per running agent {(loaded - base) / agents:.0f} KiB")
print(f"control API under load ({probes} requests, GET /v1/runs and /healthz) ms: p50 {q(0.5):.2f}  p99 {q(0.99):.2f}  max {samples[-1]:.2f}")
PY
