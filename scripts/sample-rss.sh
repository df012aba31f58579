#!/usr/bin/env bash
# Runs a command and samples its memory from /proc/PID/status every INTERVAL seconds (default 2):
# prints "seconds VmRSS RssFile VmHWM" (kB) per sample, then the peak (VmHWM) at the last sample.
# Usage: scripts/sample-rss.sh [-i INTERVAL] -- COMMAND ARGS...   (the command's own output goes to stderr)
set -euo pipefail
interval=2
if [[ "${1:-}" == "-i" ]]; then interval=$2; shift 2; fi
[[ "${1:-}" == "--" ]] && shift
"$@" 1>&2 &
pid=$!
start=$(date +%s)
echo "seconds VmRSS_kB RssFile_kB VmHWM_kB"
last=""
while kill -0 "$pid" 2>/dev/null; do
  if status=$(cat "/proc/$pid/status" 2>/dev/null); then
    line=$(awk -v t=$(( $(date +%s) - start )) '/^VmRSS/ {r=$2} /^RssFile/ {f=$2} /^VmHWM/ {h=$2}
      END {if (r != "") print t, r, f, h}' <<<"$status")
    [[ -n "$line" ]] && { echo "$line"; last=$line; }
  fi
  sleep "$interval"
done
rc=0; wait "$pid" || rc=$?
echo "exit $rc; last sample: $last"
