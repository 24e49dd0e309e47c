#!/usr/bin/env bash
# Policy load and seccomp compile times, in process, release build: loading + validating a policy,
# compiling its seccomp section with libseccomp, and loading the same filter from the compiled-filter
# cache (what `warden exec` pays per launch). Prints `warden policy check --timing` for each shipped
# policy, three runs each, with the machine's load average so busy-machine numbers can be discounted.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product warden >/dev/null
echo "machine: $(nproc) CPUs, load average: $(cut -d' ' -f1-3 /proc/loadavg), libseccomp $(pkg-config --modversion libseccomp)"
for policy in Policies/default.json Policies/strict.json; do
    echo "== $policy"
    for run in 1 2 3; do
        .build/release/warden policy check "$policy" --timing | sed -n '/^timing/,$p' | tail -n +2
    done
done
