#!/bin/sh
# cli-numbers.sh DOCSEEK WORK_DIR: every command reads its numeric options with one
# parser (cli/args.c): each bad value below is refused before any work, exit status 2,
# with "bad value 'V' for --OPT" and what the option takes. Before it synth took
# --seed abc as seed 0 and --count abc as a usage error, model init any --seed, and
# pages, ingest and serve converted nan, inf or 1e30 to integers (undefined).
set -u
D=$1
W=$2
rm -rf "$W"
mkdir -p "$W"
fails=0
n=0
# refuses OPT VALUE COMMAND ARGS...: COMMAND ARGS OPT VALUE exits 2 naming both
refuses() {
  opt=$1 value=$2
  shift 2
  # a bounded wait: a serve that took the value would listen for ever
  timeout 60 "$D" "$@" "$opt" "$value" >"$W/out" 2>"$W/err"
  got=$?
  n=$((n + 1))
  if [ "$got" != 2 ] || ! grep -qF "bad value '$value' for $opt: a " "$W/err"; then
    echo "FAIL $* $opt '$value': exit $got: $(head -n 1 "$W/err")"
    fails=$((fails + 1))
  fi
}
out="--out $W/gen"
refuses --count abc synth --type receipt --seed 1 $out
refuses --count 0 synth --type receipt --seed 1 $out
refuses --seed abc synth --type receipt --count 1 $out
refuses --seed -5 synth --type receipt --count 1 $out
refuses --families 3 synth --type receipt --count 1 --seed 1 $out
refuses --family 2.5 synth --type receipt --count 1 --seed 1 $out
refuses --seed 1x model init --config "$W/c.json" --out "$W/m.safetensors"
for cmd in pages extract; do
  refuses --dpi nan $cmd "$W/a.pdf"
  refuses --dpi 1e9 $cmd "$W/a.pdf"
  refuses --max-pixels 1e30 $cmd "$W/a.pdf"
  refuses --max-pages 2.5 $cmd "$W/a.pdf"
  refuses --timeout inf $cmd "$W/a.pdf"
done
refuses --worst '' eval --gt "$W" --extractor rules
refuses --withhold-z -1 eval --gt "$W" --extractor rules
refuses --jobs 0 ingest "$W"
refuses --log-every 0 ingest "$W"
refuses --max-bytes 1e30 ingest "$W"
refuses --port nan serve
refuses --workers 2.5 serve
refuses --request-timeout inf serve
refuses --job-ttl 1e300 serve
refuses --max-body 1e30 serve
refuses --max-pixels -3 serve
refuses --vocab 12 tokenizer train --corpus "$W/c.txt" --out "$W/t.json"
refuses --steps 1e3x train --data "$W" --out "$W/m"
refuses --lr 1e-50 finetune --lora --data "$W" --out "$W/a"

# the largest seed generates, and a count written 2e0 is two documents
if ! "$D" synth --type receipt --count 2e0 --seed 18446744073709551615 --out "$W/gen" \
  2>"$W/err" || [ "$(ls "$W/gen"/*.json | wc -l)" != 2 ]; then
  echo "FAIL synth --count 2e0 --seed 2^64-1: $(head -n 1 "$W/err")"
  fails=$((fails + 1))
fi
[ "$fails" = 0 ] || exit 1
echo "$n bad numbers refused by every command alike; good ones taken"
