#!/bin/sh
# ingest-folder.sh DOCSEEK SOURCE_DIR WORK_DIR: `docseek ingest` on a folder that
# mixes documents (nested, one twice under two names) with a damaged PDF, an
# empty file, text, an archive, a link to nothing, a hidden file and a FIFO.
# - one line per file, each error named; hidden files and the FIFO left out;
# - the results score exactly what the evaluator's own model run scores, a long
#   document's read in windows;
# - a rerun adds nothing; --retry-failed reads the failed files again;
# - killed with SIGKILL at random moments and rerun until it finishes, it ends
#   with exactly one line per file and the same results as an uninterrupted run;
# - a torn last line is cut off; a file that is not ingest's own is refused, and
#   so is one another run is writing.
set -e
D=$1
SRC=$2
W=$3
S="--schemas $SRC/samples/schemas"
M="--model $SRC/models/default.safetensors"
rm -rf "$W"
mkdir -p "$W/in/docs" "$W/in/more/deep"
sets=$SRC/samples/sets
for f in invoice/invoice-100-00000 invoice/invoice-100-00001 form/form-100-00000; do
  cp "$sets/$f.pdf" "$sets/$f.json" "$W/in/docs/"
done
cp "$sets/receipt/receipt-200-00000.jpg" "$sets/receipt/receipt-200-00000.json" "$W/in/docs/"
cp "$sets/invoice/invoice-100-00000.pdf" "$W/in/more/deep/copy.PDF" # the same content
head -c 3000 "$sets/invoice/invoice-100-00002.pdf" >"$W/in/broken.pdf"
: >"$W/in/empty.dat"
echo "minutes of the meeting" >"$W/in/notes.txt"
printf 'PK\003\004 not really an archive' >"$W/in/more/archive.zip"
ln -s "$W/in/nowhere.pdf" "$W/in/more/dangling.pdf"
cp "$sets/invoice/invoice-100-00002.pdf" "$W/in/.hidden.pdf"
mkfifo "$W/in/more/fifo"
# 4 documents and their 4 truths (text), the copy, broken, empty, notes, archive, dangling
files=14

lines() { wc -l <"$1" | tr -d ' '; }
# the paths a results file names more than once
dups() { grep -o '"file":"[^"]*"' "$1" | sort | uniq -d; }
has() { grep -F "\"file\":\"$W/in/$1\"" "$2" | grep -q "$3" || { echo "no $3 for $1"; exit 1; }; }
f1() { "$D" eval --gt "$W/in/docs" $S --pred "$1" --worst 0 | grep -E '^overall|^grounding'; }

set +e
t0=$(date +%s%N)
"$D" ingest "$W/in" --out "$W/clean.jsonl" $S $M --jobs 2 --batch 3 2>"$W/clean.err"
rc=$?
ms=$((($(date +%s%N) - t0) / 1000000)) # a whole run, model load included
set -e
cat "$W/clean.err"
test $rc = 1 # some files failed
test "$(lines "$W/clean.jsonl")" = $files
test -z "$(dups "$W/clean.jsonl")"
has docs/invoice-100-00000.pdf "$W/clean.jsonl" '"doc_type":"invoice"'
has docs/receipt-200-00000.jpg "$W/clean.jsonl" '"doc_type":"receipt"'
has docs/form-100-00000.pdf "$W/clean.jsonl" '"doc_type":"form"'
has more/deep/copy.PDF "$W/clean.jsonl" "\"same_content_as\":\"$W/in/docs/invoice-100-00000.pdf\""
has broken.pdf "$W/clean.jsonl" '"code":"FORMAT"'
has empty.dat "$W/clean.jsonl" '"code":"FORMAT"'
has notes.txt "$W/clean.jsonl" '"code":"UNSUPPORTED"'
has more/archive.zip "$W/clean.jsonl" '"code":"UNSUPPORTED"'
has more/dangling.pdf "$W/clean.jsonl" '"code":"NOENT"'
has docs/form-100-00000.json "$W/clean.jsonl" '"code":"UNSUPPORTED"'
if grep -q 'hidden\|fifo' "$W/clean.jsonl"; then exit 1; fi
grep -q "4 extracted, 0 already in .*, 1 with the content of another, 9 failed" "$W/clean.err"
a=$(f1 "$W/clean.jsonl")
b=$("$D" eval --gt "$W/in/docs" $S $M --extractor model --worst 0 | grep -E '^overall|^grounding')
echo "through ingest: $(echo "$a" | head -1)"
test -n "$a"
test "$a" = "$b"
echo "one line per file, errors named, the evaluator's results"

# A document longer than one sequence is read in windows by default, as extract and
# serve read it (ingest, and then eval, once read only its first window): the same
# results as the evaluator's, which reads windows by default too; its --no-windows
# first window alone scores otherwise.
mkdir -p "$W/long"
"$D" synth --type contract --count 1 --seed 9850 --family 48 --out "$W/long" >/dev/null
"$D" ingest "$W/long" --out "$W/long.jsonl" $S $M --type contract 2>"$W/long.err" || true
grep -q '"windows":[2-9]' "$W/long.jsonl" || { cat "$W/long.err"; echo "not read in windows"; exit 1; }
a_long=$("$D" eval --gt "$W/long" $S --pred "$W/long.jsonl" --worst 0 | grep -E '^overall')
b_long=$("$D" eval --gt "$W/long" $S $M --extractor model --given-type --worst 0 |
  grep -E '^overall')
c_long=$("$D" eval --gt "$W/long" $S $M --extractor model --given-type --no-windows --worst 0 |
  grep -E '^overall')
echo "a long contract through ingest: $a_long; its first window alone: $c_long"
test -n "$a_long"
test "$a_long" = "$b_long"
test "$a_long" != "$c_long"

# A rerun adds nothing; --glob narrows what is read.
cp "$W/clean.jsonl" "$W/again.jsonl"
"$D" ingest "$W/in" --out "$W/again.jsonl" $S $M --glob '*.pdf' 2>"$W/again.err" || true
cmp "$W/clean.jsonl" "$W/again.jsonl"
grep -q "6 files: 0 extracted, 6 already in" "$W/again.err"

# --retry-failed: the damaged PDF, repaired, is read again; the other failures stay.
cp "$W/clean.jsonl" "$W/retry.jsonl"
cp "$sets/invoice/invoice-100-00002.pdf" "$W/in/broken.pdf"
"$D" ingest "$W/in" --out "$W/retry.jsonl" $S $M --retry-failed 2>"$W/retry.err" || true
grep -q "removed 9 error lines" "$W/retry.err"
test "$(lines "$W/retry.jsonl")" = $files
test -z "$(dups "$W/retry.jsonl")"
has broken.pdf "$W/retry.jsonl" '"doc_type":"invoice"'
head -c 3000 "$sets/invoice/invoice-100-00002.pdf" >"$W/in/broken.pdf"
echo "a rerun adds nothing; --retry-failed reads failures again"

# Killed (SIGKILL: no cleanup) at random moments within the time a whole run takes,
# and rerun until a run finishes. A run that finishes before any kill landed (the
# machine got faster than when $ms was measured) starts the file again: the check
# is of runs that died half way.
seed=${DS_TEST_SEED:-$$}
echo "kill seed $seed; a whole run takes $ms ms"
kills=0
for k in 1 2 3 4 5 6 7 8 9 10 11 12; do
  "$D" ingest "$W/in" --out "$W/killed.jsonl" $S $M --jobs 1 --batch 1 2>>"$W/killed.err" &
  pid=$!
  if [ $k -le 8 ]; then
    sleep "$(awk -v s="$seed" -v k="$k" -v ms="$ms" \
             'BEGIN { srand(s * 31 + k); printf "%.3f", ms * (0.05 + 0.75 * rand()) / 1000 }')"
    kill -9 $pid 2>/dev/null || true
  fi
  set +e
  wait $pid 2>/dev/null
  rc=$?
  set -e
  [ $rc = 137 ] && kills=$((kills + 1))
  if [ $rc = 0 ] || [ $rc = 1 ]; then # a run finished (1: with the failures above)
    [ $kills -ge 1 ] || [ $k -gt 8 ] && break
    rm -f "$W/killed.jsonl"
  fi
done
test $rc = 0 || test $rc = 1
test $kills -ge 1 # at least one run died half way
test "$(lines "$W/killed.jsonl")" = $files
test -z "$(dups "$W/killed.jsonl")"
test "$(f1 "$W/killed.jsonl")" = "$a"
echo "after $kills kills: one line per file, the same results"

# SIGTERM stops a run cleanly (exit 130, the documents already read finished, the
# summary says what is left); a rerun completes it.
"$D" ingest "$W/in" --out "$W/term.jsonl" $S $M --jobs 1 --batch 1 2>"$W/term.err" &
pid=$!
sleep "$(awk -v ms="$ms" 'BEGIN { printf "%.3f", ms * 0.4 / 1000 }')"
kill -TERM $pid 2>/dev/null || true
set +e
wait $pid
rc=$?
set -e
echo "SIGTERM: exit $rc"
if [ $rc = 130 ]; then
  grep -q "stopped with [0-9]* files not done; run the same command again" "$W/term.err"
else
  test $rc = 1 # it had finished
fi
"$D" ingest "$W/in" --out "$W/term.jsonl" $S $M 2>>"$W/term.err" || true
test "$(lines "$W/term.jsonl")" = $files
test -z "$(dups "$W/term.jsonl")"
test "$(f1 "$W/term.jsonl")" = "$a"

# A torn last line (what a kill during a write leaves) is cut off and redone.
head -c -40 "$W/clean.jsonl" >"$W/torn.jsonl"
"$D" ingest "$W/in" --out "$W/torn.jsonl" $S $M 2>"$W/torn.err" || true
grep -q "cut off an unfinished last line" "$W/torn.err"
test "$(lines "$W/torn.jsonl")" = $files
test -z "$(dups "$W/torn.jsonl")"

# Not ingest's own file: refused, untouched.
echo '{"id": "x"}' >"$W/foreign.jsonl"
if "$D" ingest "$W/in" --out "$W/foreign.jsonl" $S $M 2>"$W/foreign.err"; then exit 1; fi
grep -q "FORMAT: .*line 1 is not a line docseek ingest wrote" "$W/foreign.err"
test "$(cat "$W/foreign.jsonl")" = '{"id": "x"}'
# Another run holds the file.
flock "$W/clean.jsonl" sleep 2 &
holder=$!
sleep 0.5
if "$D" ingest "$W/in" --out "$W/clean.jsonl" $S $M 2>"$W/busy.err"; then exit 1; fi
wait $holder
grep -q "BUSY: .*another docseek ingest is writing it" "$W/busy.err"
if "$D" ingest "$W/nothing-here" --out "$W/x.jsonl" $S $M 2>"$W/nodir.err"; then exit 1; fi
grep -q "NOENT" "$W/nodir.err"
set +e
"$D" ingest "$W/in" --out "$W/x.jsonl" --jobs 0 2>"$W/usage.err"
rc=$?
set -e
test $rc = 2
grep -q "bad value .0. for --jobs: a whole number from 1 to 64" "$W/usage.err"
echo "ingest: every file one line, resumable after kill -9, errors named"
