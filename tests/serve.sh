#!/usr/bin/env bash
# serve.sh DOCSEEK SOURCE_DIR WORK_DIR: the real `docseek serve` on a free
# loopback port, driven with curl and raw sockets (bash /dev/tcp):
# - /healthz, /metrics; POST /v1/extract with the document as the body and as
#   a multipart "file" part, answering exactly what `docseek extract` answers; a
#   blank scan answered with every field null, the server alive after it;
#   ?async=1 jobs polled at /v1/jobs/{id}, and their expiry;
# - keep-alive, pipelined requests answered in order, a chunked body,
#   Expect: 100-continue answered at once;
# - every limit with its status: 413 body, 431 headers, 422 pages, 408 slow
#   client, 503 + Retry-After when the queue is full, 504 past the request
#   timeout, 401 without the key;
#   400 / 404 / 415 for bad requests, each a JSON error from the one table;
# - ?adapter=NAME, ?ocr= and ?ocr_layout= per request; GET /v1/types (types, adapters,
#   reading defaults); options from --config FILE (serve --ocr, --ocr-layout among them);
# - SIGTERM: the request in flight is answered, then the server exits 0.
set -euo pipefail
D=$1
SRC=$2
W=$3
rm -rf "$W"
mkdir -p "$W"
cd "$SRC"
S=(--schemas "$SRC/samples/schemas" --model "$SRC/models/default.safetensors")
# raw confidences for extract and the servers: two readings of a page that differ only in
# them stay apart (the calibration maps most of a clean page's values to one step)
X=("${S[@]}" --calibration none)
INV=samples/sets/invoice/invoice-100-00000.pdf
RCP=$(ls samples/sets/receipt/*.jpg | head -1)
pids=()
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
. "$SRC/tests/serve-start.sh"

# start NAME ARGS...: a server on a free port; sets PORT
start() {
  local name=$1
  shift
  serve_start "$D" "$SRC" "$W/$name.port" "$W/$name.log" --calibration none "$@" || true
  pids+=("$SERVE_PID")
  PID=$SERVE_PID
  PORT=$(cat "$W/$name.port")
  curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null
}
# status METHOD PATH [curl args...]: prints the status code; the body goes to $W/body
status() {
  local m=$1 p=$2
  shift 2
  curl -s -o "$W/body" -w '%{http_code}' -X "$m" "$@" "http://127.0.0.1:$PORT$p"
}
expect() { # expect CODE STATUS ERROR_CODE
  [ "$2" = "$1" ] || { echo "want $1, got $2: $(cat "$W/body")"; exit 1; }
  [ -z "${3:-}" ] || grep -q "\"code\":\"$3\"" "$W/body" || { echo "no $3 in $(cat "$W/body")"; exit 1; }
}
fields() { sed 's/.*"fields":\(.*\),"pages".*/\1/' "$1"; }

start main --max-body 2000000 --max-headers 32 --max-pages 1 --read-timeout-ms 800 --max-batch 4
grep -q '"status":"ok"' <(curl -s "http://127.0.0.1:$PORT/healthz")

# the document as the body, and as a multipart part: what extract answers
"$D" extract "${X[@]}" "$INV" >"$W/inv.extract"
"$D" extract "${X[@]}" "$RCP" >"$W/rcp.extract"
expect 200 "$(status POST /v1/extract --data-binary @"$INV" -H 'Content-Type: application/pdf')"
cp "$W/body" "$W/inv.served"
[ "$(fields "$W/inv.served")" = "$(fields "$W/inv.extract")" ]
expect 200 "$(status POST /v1/extract -F file=@"$RCP")"
cp "$W/body" "$W/rcp.served"
[ "$(fields "$W/rcp.served")" = "$(fields "$W/rcp.extract")" ]
expect 200 "$(status POST '/v1/extract?type=invoice' --data-binary @"$INV")"
grep -q '"doc_type":"invoice"' "$W/body"
expect 200 "$(status POST '/v1/extract?images=1' -F file=@"$INV")"
grep -q '"page_images":\[{"width_pt":[0-9.]*,"height_pt":[0-9.]*,"png":"data:image/png;base64,iVBOR' "$W/body"
expect 200 "$(status GET /)"
grep -q '<title>docseek</title>' "$W/body"
# a blank scan: answered with no value read from it, and the server lives on
python3 "$SRC/tests/py/blank_png.py" "$W/blank.png"
expect 200 "$(status POST '/v1/extract?type=receipt' -F file=@"$W/blank.png")"
grep -q '"fields":{"company":null,"address":null,"date":null,"total":null}' "$W/body"
expect 200 "$(status GET /healthz)"
echo "extract: body and multipart answer what docseek extract answers; page images; the page; a blank scan"

# asynchronous jobs: 202 at once, then queued/running/done with the same answer
poll() { # poll ID: waits until the job is done or failed; its status object in $W/body
  for _ in $(seq 1 300); do
    status GET "/v1/jobs/$1" >/dev/null
    grep -q '"status":"\(done\|failed\)"' "$W/body" && return 0
    sleep 0.1
  done
  return 1
}
expect 202 "$(status POST '/v1/extract?async=1' --data-binary @"$INV")"
id=$(sed -n 's/.*"job_id":"\([0-9a-f]\{32\}\)".*/\1/p' "$W/body")
[ -n "$id" ]
grep -q "\"href\":\"/v1/jobs/$id\"" "$W/body"
poll "$id"
grep -q '"status":"done"' "$W/body"
[ "$(sed 's/.*"result":\(.*\)}$/\1/' "$W/body" | sed 's/.*"fields":\(.*\),"pages".*/\1/')" = \
  "$(fields "$W/inv.extract")" ]
head -c 2000 "$INV" >"$W/broken.pdf"
expect 202 "$(status POST '/v1/extract?async=1' --data-binary @"$W/broken.pdf")"
id2=$(sed -n 's/.*"job_id":"\([0-9a-f]\{32\}\)".*/\1/p' "$W/body")
poll "$id2"
grep -q '"status":"failed","error":{"code":"FORMAT"' "$W/body"
expect 404 "$(status GET /v1/jobs/0123456789abcdef0123456789abcdef)" NOT_FOUND
echo "async: 202, then done with the same answer; a failed job names its error; unknown id 404"

# bad requests
expect 400 "$(status POST '/v1/extract?type=passport' --data-binary @"$INV")" INVAL
expect 400 "$(status POST /v1/extract -F other=@"$INV")" INVAL
expect 400 "$(status POST /v1/extract)" INVAL
expect 400 "$(status GET /v1/extract)" INVAL
expect 404 "$(status GET /nothing)" NOT_FOUND
expect 415 "$(status POST /v1/extract --data-binary 'just some text, not a document')" UNSUPPORTED
expect 422 "$(status POST /v1/extract --data-binary @"$W/broken.pdf")" FORMAT
echo "bad requests: 400, 404, 415, 422 with their codes"

# limits
head -c 2500000 /dev/zero >"$W/big.bin"
expect 413 "$(status POST /v1/extract --data-binary @"$W/big.bin")" TOO_LARGE
hdrs=()
for i in $(seq 1 40); do hdrs+=(-H "X-Filler-$i: $i"); done
expect 431 "$(status GET /healthz "${hdrs[@]}")"
tif=$(ls samples/sets/contract/*.tif | head -1)
pages=$("$D" pages "$tif" --compact | grep -o '"n_pages":[0-9]*' | cut -d: -f2)
[ "$pages" -ge 2 ]
expect 422 "$(status POST /v1/extract --data-binary @"$tif")" TOO_MANY_PAGES
# a slow client: half a request, then nothing
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'POST /v1/extract HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc' >&3
slow=$(timeout 10 cat <&3 || true)
exec 3<&-
grep -q "HTTP/1.1 408" <<<"$slow"
echo "limits: 413 body, 431 headers, 422 pages ($pages), 408 slow client"

# keep-alive, pipelining, chunked, Expect: 100-continue
curl -sv "http://127.0.0.1:$PORT/healthz" "http://127.0.0.1:$PORT/healthz" -o /dev/null \
  -o /dev/null 2>"$W/keepalive.log"
grep -qi "re-using existing connection" "$W/keepalive.log"
exec 3<>"/dev/tcp/127.0.0.1/$PORT"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' >&3
piped=$(timeout 10 cat <&3 || true)
exec 3<&-
# (a body has no newline at its end: the next status line follows it directly)
[ "$(grep -ao 'HTTP/1.1 [0-9]*' <<<"$piped" | tr '\n' ' ')" = "HTTP/1.1 200 HTTP/1.1 404 HTTP/1.1 200 " ]
expect 200 "$(status POST /v1/extract -H 'Transfer-Encoding: chunked' --data-binary @"$RCP")"
[ "$(fields "$W/body")" = "$(fields "$W/rcp.extract")" ]
curl -sv -o /dev/null -H 'Expect: 100-continue' --data-binary @"$INV" \
  "http://127.0.0.1:$PORT/v1/extract" 2>"$W/expect.log"
grep -q "HTTP/1.1 100 Continue" "$W/expect.log"
echo "keep-alive, 3 pipelined requests in order, chunked body, 100-continue"

# metrics
curl -s "http://127.0.0.1:$PORT/metrics" >"$W/metrics"
grep -q '^docseek_requests_total{status="200"} [1-9]' "$W/metrics"
grep -q '^docseek_requests_total{status="413"} 1$' "$W/metrics"
grep -q '^docseek_documents_total [1-9]' "$W/metrics"
grep -q '^docseek_batch_size_count [1-9]' "$W/metrics"
grep -q '^docseek_latency_seconds_count{stage="request"} [1-9]' "$W/metrics"
echo "metrics: requests by status, documents, batches, latency"

# SIGTERM: the request in flight is answered, then exit 0
curl -s -o "$W/last.json" -w '%{http_code}' --data-binary @"$RCP" \
  "http://127.0.0.1:$PORT/v1/extract" >"$W/last.code" &
cpid=$!
sleep 0.05
kill -TERM "$PID"
wait "$cpid"
set +e
wait "$PID"
rc=$?
set -e
[ "$rc" = 0 ]
[ "$(cat "$W/last.code")" = 200 ]
if curl -s "http://127.0.0.1:$PORT/healthz" >/dev/null; then exit 1; fi
echo "SIGTERM: the request in flight answered, exit 0"

# a full queue: 503 with Retry-After
start queue --max-queue 1 --workers 1 --max-batch 1
for i in 1 2 3 4 5 6; do
  curl -s -D "$W/q$i.head" -o /dev/null --data-binary @"$RCP" "http://127.0.0.1:$PORT/v1/extract" &
done
wait $(jobs -p | grep -v "^$PID$") 2>/dev/null || true
sleep 0.5
grep -l "HTTP/1.1 503" "$W"/q*.head >/dev/null
grep -qi "^Retry-After: 1" $(grep -l "HTTP/1.1 503" "$W"/q*.head | head -1)
grep -l "HTTP/1.1 200" "$W"/q*.head >/dev/null
kill -TERM "$PID"
wait "$PID"
echo "queue: 503 with Retry-After beyond --max-queue"

# a request not answered within --request-timeout: 504, and the server goes on
start timed --request-timeout 0.05 --workers 1 --max-pixels 1000000
expect 422 "$(status POST /v1/extract --data-binary @"$INV")" TOO_MANY_PIXELS
grep -q 'the limit is 1000000' "$W/body"
expect 504 "$(status POST /v1/extract --data-binary @"$RCP")" TIMEOUT
grep -q 'no answer within 0.05 s (--request-timeout)' "$W/body"
expect 200 "$(status GET /healthz)"
expect 504 "$(status POST /v1/extract --data-binary @"$RCP")" TIMEOUT
kill -TERM "$PID"
wait "$PID"
echo "422 past --max-pixels; request timeout: 504 with the limit named, the server answers on"

# the API key
echo "s3cret-key" >"$W/key"
start keyed --api-key-file "$W/key" --job-ttl 1
expect 401 "$(status POST /v1/extract --data-binary @"$INV")" UNAUTHORIZED
expect 401 "$(status POST /v1/extract --data-binary @"$INV" -H 'Authorization: Bearer wrong')" UNAUTHORIZED
expect 200 "$(status POST /v1/extract --data-binary @"$INV" -H 'Authorization: Bearer s3cret-key')"
expect 200 "$(status GET /healthz)"
expect 200 "$(status GET /)" # the page is public; what it posts is not
expect 401 "$(status GET /v1/types)" UNAUTHORIZED # and what it lists
expect 200 "$(status GET /v1/types -H 'Authorization: Bearer s3cret-key')"
grep -q '"doc_type":"form_entities"[^}]*"routed":false' "$W/body"
grep -q '"doc_type":"receipt"[^}]*"routed":true[^}]*"fields":\["company","address","date","total"\]' "$W/body"
grep -q '"adapters":\[\]' "$W/body"
if grep -q "s3cret" "$W/keyed.log"; then exit 1; fi
# an async job's answer expires --job-ttl seconds after it is done
expect 202 "$(status POST '/v1/extract?async=1' --data-binary @"$INV" -H 'Authorization: Bearer s3cret-key')"
id=$(sed -n 's/.*"job_id":"\([0-9a-f]\{32\}\)".*/\1/p' "$W/body")
for _ in $(seq 1 300); do
  status GET "/v1/jobs/$id" -H 'Authorization: Bearer s3cret-key' >/dev/null
  grep -q '"status":"done"' "$W/body" && break
  sleep 0.1
done
grep -q '"status":"done"' "$W/body"
sleep 2
expect 404 "$(status GET "/v1/jobs/$id" -H 'Authorization: Bearer s3cret-key')" NOT_FOUND
kill -TERM "$PID"
wait "$PID"
# per-request adapters and OCR, and the configuration file: an adapter of the default
# model (2 steps on 2 invoices, a high rate so that it matters), named in the file;
# the command line overrides the file
mkdir -p "$W/ft"
for f in samples/sets/invoice/invoice-100-0000[01].*; do ln -sf "$SRC/$f" "$W/ft/"; done
"$D" finetune --lora "${S[@]}" --data "$W/ft" --out "$W/ad.safetensors" --steps 2 --batch 1 \
  --rank 4 --lr 0.05 --warmup 1 --cache "$W/ft-cache" >/dev/null 2>&1
"$D" extract "${X[@]}" --adapter "$W/ad.safetensors" "$INV" >"$W/inv.adapted"
"$D" extract "${X[@]}" --ocr always "$INV" >"$W/inv.ocr"
"$D" extract "${X[@]}" --ocr always --ocr-layout auto "$INV" >"$W/inv.ocr-auto"
# the three readings differ (OCR's text, its layout's boxes), so each check below can fail
[ "$(fields "$W/inv.ocr")" != "$(fields "$W/inv.extract")" ]
[ "$(fields "$W/inv.ocr")" != "$(fields "$W/inv.ocr-auto")" ]
printf '{"max-batch": 2, "max-pages": 1, "adapter": ["big=%s"], "job-ttl": 60, "ocr": "always", "ocr-layout": "auto"}\n' \
  "$W/ad.safetensors" >"$W/serve.json"
start configured --config "$W/serve.json" --max-pages 5
expect 200 "$(status POST '/v1/extract?adapter=big&ocr=auto' --data-binary @"$INV")"
[ "$(fields "$W/body")" = "$(fields "$W/inv.adapted")" ]
expect 200 "$(status POST '/v1/extract?ocr=auto' --data-binary @"$INV")"
[ "$(fields "$W/body")" = "$(fields "$W/inv.extract")" ]
expect 200 "$(status POST /v1/extract --data-binary @"$INV")" # the configured reading
[ "$(fields "$W/body")" = "$(fields "$W/inv.ocr-auto")" ]
expect 400 "$(status POST '/v1/extract?adapter=small' --data-binary @"$INV")" INVAL
grep -q 'this server has: big' "$W/body"
expect 200 "$(status GET /v1/types)"
grep -q '"adapters":\["big"\]' "$W/body"
grep -q '"reading":{"ocr":"always","ocr_layout":"auto","ocr_lang":"eng","ocr_layouts":\["block","auto","column","sparse"\]}' "$W/body"
expect 200 "$(status POST '/v1/extract?ocr_layout=block' --data-binary @"$INV")"
[ "$(fields "$W/body")" = "$(fields "$W/inv.ocr")" ]
expect 400 "$(status POST '/v1/extract?ocr=sometimes' --data-binary @"$INV")" INVAL
expect 200 "$(status POST '/v1/extract?ocr=always&ocr_layout=auto' --data-binary @"$INV")"
[ "$(fields "$W/body")" = "$(fields "$W/inv.ocr-auto")" ]
expect 400 "$(status POST '/v1/extract?ocr_layout=diagonal' --data-binary @"$INV")" INVAL
grep -q 'ocr_layout=diagonal: takes block, auto, column or sparse' "$W/body"
expect 200 "$(status POST /v1/extract --data-binary @"$tif")" # --max-pages 5 beat the file's 1
kill -TERM "$PID"
wait "$PID"
echo '{"max-batch": 2, "colour": "blue"}' >"$W/bad.json"
set +e
"$D" serve "${S[@]}" --config "$W/bad.json" 2>"$W/bad.log"
rc=$?
set -e
[ "$rc" = 2 ]
grep -q "bad.json: unknown option --colour" "$W/bad.log"
echo '{"ocr-layout": "diagonal"}' >"$W/bad.json"
set +e
"$D" serve "${S[@]}" --config "$W/bad.json" 2>"$W/bad.log"
rc=$?
"$D" serve "${S[@]}" --ocr sometimes 2>>"$W/bad.log"
rc2=$?
set -e
[ "$rc" = 2 ] && [ "$rc2" = 2 ]
grep -q "bad.json: --ocr-layout takes block, auto, column or sparse, not 'diagonal'" "$W/bad.log"
grep -q "\-\-ocr takes auto, always or never, not 'sometimes'" "$W/bad.log"
echo "?adapter=NAME answers what extract --adapter does, ?ocr=always what --ocr always does \
(with ?ocr_layout=auto what --ocr-layout auto does); \
--config read (its ocr and ocr-layout the requests' defaults), the command line over it, \
an unknown key and an unknown layout refused"

# the servers' own logs hold no sanitizer report (their exit codes were checked too)
if grep -l "ERROR: [A-Za-z]*Sanitizer\|runtime error:" "$W"/*.log; then exit 1; fi
echo "serve: every endpoint, both uploads, keep-alive, pipelining, each limit, clean stop"
