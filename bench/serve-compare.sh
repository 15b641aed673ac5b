#!/usr/bin/env bash
# serve-compare.sh [BUILD_DIR] [FILE] [REQUESTS]: continuous batching against
# one document at a time, in the same run. Starts `docseek serve` with its
# default --max-batch and again with --max-batch 1 (each alone on the
# machine, one after the other), and puts 1, 8 and 32 keep-alive clients on
# each with bench_serve (REQUESTS answers per concurrency, default 96), all
# posting FILE (default: the sample invoice). Prints bench_serve's lines for
# both, where the model thread's time went (from /metrics), and the
# throughput ratio per concurrency. A benchmark: nothing asserts
# on time.
set -euo pipefail
B=${1:-build}
SRC=$(cd "$(dirname "$0")/.." && pwd)
FILE=${2:-$SRC/samples/sets/invoice/invoice-100-00000.pdf}
N=${3:-96}
export OMP_THREAD_LIMIT=1
W=$(mktemp -d)
pid=
cleanup() {
  [ -z "$pid" ] || kill -9 "$pid" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
. "$SRC/tests/serve-start.sh"

run() { # run NAME SERVE_ARGS...: one server, the three loads; bench lines to $W/NAME
  local name=$1
  shift
  serve_start "$B/docseek" "$SRC" "$W/port" "$W/$name.log" "$@"
  pid=$SERVE_PID
  local port=$SERVE_PORT
  "$B/bench_serve" --port "$port" --file "$FILE" --requests "$N" --concurrency 1 \
    --concurrency 8 --concurrency 32 | tee "$W/$name"
  # where the model thread's time went, over the three loads
  curl -s "http://127.0.0.1:$port/metrics" | awk '
    /^docseek_documents_total / { docs = $2 }
    /^docseek_tokens_total / { tok = $2 }
    /phase="prefill"/ { pre = $2 }
    /phase="decode"/ { dec = $2 }
    /^docseek_batch_size_sum / { bsum = $2 }
    /^docseek_batch_size_count / { steps = $2 }
    END { printf "model thread: %d documents, %d answer tokens; prefill %.1f ms and decode %.1f ms " \
          "per document; %.2f documents in the stream per step on average\n", docs, tok,
          1e3 * pre / docs, 1e3 * dec / docs, bsum / steps }'
  kill -TERM "$pid"
  wait "$pid"
  pid=
}

echo "== docseek serve (continuous batching, --max-batch default: $("$B/docseek" serve --help |
  sed -n 's/.*--max-batch N .*(default \([0-9]*\).*/\1/p'))"
run batched
echo "== docseek serve --max-batch 1 (one document at a time)"
run single --max-batch 1
echo "== throughput, continuous batching / --max-batch 1"
paste <(awk '$1 ~ /^[0-9]+$/ { print $1, $5 }' "$W/batched") \
  <(awk '$1 ~ /^[0-9]+$/ { print $5 }' "$W/single") |
  awk '{ printf "concurrency %3d  %7.2f / %7.2f docs/s = %.2fx\n", $1, $2, $3, $2 / $3 }'
