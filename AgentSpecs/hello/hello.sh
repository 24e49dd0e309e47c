#!/bin/sh
# The example agent: greets, then shows facts that only hold inside the sandbox.
echo "${GREETING:-Hello}!"
echo "uid: $(id -u) gid: $(id -g)"
echo "hostname: $(cat /proc/sys/kernel/hostname)"
echo "pid: $$ (pid namespace: process ids start at 1 here)"
# /proc/net/dev lists the interfaces of this network namespace: only lo.
interfaces=$(tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' ' | tr '\n' ' ')
echo "network interfaces: ${interfaces% }"
echo "working directory: $(pwd)"
if touch /usr/.warden-probe 2>/dev/null; then echo "/usr: writable (unexpected)"; else echo "/usr: read-only"; fi
