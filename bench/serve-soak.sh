#!/usr/bin/env bash
# serve-soak.sh [BUILD_DIR] [SECONDS] [CLIENTS]: a soak of `docseek serve`
# built with AddressSanitizer (default build-asan, 600 s, 32 clients). The
# clients post the sample invoice and the scanned sample receipt in turns,
# round after round of bench_serve, until SECONDS have passed; the server's
# resident memory is sampled every 30 s. Then SIGTERM: the server must exit
# 0 with no sanitizer report (LeakSanitizer runs at its exit), every answer
# must have been 200, and the RSS of the second half must stay within 10% of
# its first sample there (flat: no growth per request). Prints the samples
# and the verdict; exit 1 when one of those fails. Long: run it by hand, not
# in the test suite.
set -euo pipefail
B=${1:-build-asan}
SECS=${2:-600}
CLIENTS=${3:-32}
SRC=$(cd "$(dirname "$0")/.." && pwd)
INV=$SRC/samples/sets/invoice/invoice-100-00000.pdf
RCP=$(ls "$SRC"/samples/sets/receipt/*.jpg | head -1)
export OMP_THREAD_LIMIT=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export LSAN_OPTIONS=suppressions=$SRC/tests/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
W=$(mktemp -d)
pid=
cleanup() {
  [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
. "$SRC/tests/serve-start.sh"
serve_start "$B/docseek" "$SRC" "$W/port" "$W/serve.log" --max-batch 16 --max-queue 256
pid=$SERVE_PID
port=$SERVE_PORT
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
t0=$(date +%s)
rounds=0
bad=0
: >"$W/rss"
next_sample=$t0
while [ $(($(date +%s) - t0)) -lt "$SECS" ]; do
  for f in "$INV" "$RCP"; do
    if ! "$B/bench_serve" --port "$port" --file "$f" --requests $((CLIENTS * 2)) \
      --concurrency "$CLIENTS" --expect-ok >"$W/round" 2>&1; then
      bad=$((bad + 1))
      cat "$W/round"
    fi
    rounds=$((rounds + 1))
  done
  now=$(date +%s)
  if [ "$now" -ge "$next_sample" ]; then
    echo "$((now - t0)) $(rss)" | tee -a "$W/rss"
    next_sample=$((now + 30))
  fi
done
echo "$(($(date +%s) - t0)) $(rss)" | tee -a "$W/rss"
answered=$(curl -s "http://127.0.0.1:$port/metrics" | awk '/^docseek_documents_total / { print $2 }')
kill -TERM "$pid"
set +e
wait "$pid"
rc=$?
set -e
pid=
reports=$(grep -c "ERROR: [A-Za-z]*Sanitizer\|runtime error:" "$W/serve.log" || true)
# flat: the second half's samples within 10% of that half's first one
n=$(wc -l <"$W/rss")
flat=$(tail -n $(((n + 1) / 2)) "$W/rss" | awk 'NR == 1 { base = $2 } { d = ($2 - base) / base;
  if (d > m) m = d } END { printf "%.1f", 100 * m }')
echo "soak: ${SECS}s, $CLIENTS clients, $rounds rounds, $answered documents answered;" \
  "rounds with a non-200 answer: $bad; server exit $rc; sanitizer reports: $reports;" \
  "RSS growth over the second half: ${flat}%"
[ "$bad" = 0 ] && [ "$rc" = 0 ] && [ "$reports" = 0 ] &&
  awk -v f="$flat" 'BEGIN { exit !(f < 10) }'
