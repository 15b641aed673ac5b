#!/bin/sh
# serve-load.sh DOCSEEK BENCH_SERVE SOURCE_DIR WORK_DIR: `docseek serve` under
# load from bench_serve (8 and 16 keep-alive clients, born-digital invoices and
# OCR'd receipts): every request answered 200, then SIGTERM and exit 0. Under
# AddressSanitizer the exit status also says the server freed everything it
# allocated under that load (LeakSanitizer fails the exit otherwise).
set -eu
D=$1
B=$2
SRC=$3
W=$4
rm -rf "$W"
mkdir -p "$W"
cd "$SRC"
. "$SRC/tests/serve-start.sh"
serve_start "$D" "$SRC" "$W/port" "$W/serve.log" --max-queue 64
pid=$SERVE_PID
port=$SERVE_PORT
rc=0
"$B" --port "$port" --requests 32 --concurrency 8 --concurrency 16 --expect-ok || rc=1
"$B" --port "$port" --requests 16 --concurrency 8 --expect-ok \
    --file "$(ls samples/sets/receipt/*.jpg | head -1)" || rc=1
kill -TERM $pid
set +e
wait $pid
src=$?
set -e
echo "server exit $src"
[ $rc = 0 ] && [ $src = 0 ] && ! grep -q "ERROR: [A-Za-z]*Sanitizer\|runtime error:" "$W/serve.log" &&
  echo "serve under load: every request answered, clean exit"
