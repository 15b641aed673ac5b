#!/bin/sh
# finetune-lora.sh DOCSEEK SOURCE_DIR WORK_DIR: train a tiny model, adapt it with a
# LoRA adapter, merge the adapter; both the base + adapter and the merged model
# must run through the evaluator, and the base file must not change. Adapter
# training stopped after 2 of 4 steps and resumed from its checkpoint must give
# the same adapter, byte for byte, and the same loss curve. An adapter beside the
# model (MODEL.TYPE.lora.safetensors) reads documents named or routed to that type. (That the
# two compute the same is lora_merge_save_load_train's check, on the loss: the
# greedy extraction of this barely trained model can flip on rounding, since
# W x + s B A x and (W + s B A) x round differently.)
set -e
D=$1
SRC=$2
W=$3
S="--schemas $SRC/samples/schemas"
rm -rf "$W"
mkdir -p "$W"
"$D" synth --type invoice --count 6 --seed 7100 --out "$W/data" >/dev/null
"$D" synth --type invoice --count 2 --seed 7200 --out "$W/eval" >/dev/null
"$D" tokenizer train --corpus "$W/data" --vocab 500 --out "$W/tok.json" >/dev/null
"$D" train --data "$W/data" --config "$SRC/configs/tiny.json" --tokenizer "$W/tok.json" \
    --steps 6 --batch 2 --warmup 1 --cache "$W/cache" $S --out "$W/base.safetensors"
sum1=$(cksum <"$W/base.safetensors")
"$D" finetune --lora --model "$W/base.safetensors" --data "$W/data" --out "$W/ad.safetensors" \
    --steps 4 --batch 2 --rank 4 --lr 1e-2 --cache "$W/cache" $S
"$D" finetune --lora --model "$W/base.safetensors" --data "$W/data" --out "$W/ad2.safetensors" \
    --steps 4 --batch 2 --rank 4 --lr 1e-2 --cache "$W/cache" $S --stop-after 2
"$D" finetune --lora --model "$W/base.safetensors" --data "$W/data" --out "$W/ad2.safetensors" \
    --steps 4 --batch 2 --rank 4 --lr 1e-2 --cache "$W/cache" $S --resume
cmp "$W/ad.safetensors" "$W/ad2.safetensors"
cut -d, -f1-9,11 "$W/ad.safetensors.csv" >"$W/once.csv"
cut -d, -f1-9,11 "$W/ad2.safetensors.csv" >"$W/twice.csv"
cmp "$W/once.csv" "$W/twice.csv"
echo "adapter resume: 4 steps in one run and 2 + 2 with a resume give identical adapters and curves"
# The adapter's file records what made it (metadata "training", as a model's does); one
# trained further from it (--init-adapter) records that and its starting point's recipe.
# (the training JSON as a line, its quotes unescaped)
training() { "$D" tensors --json "$1" | grep '"training":' | tr -d '\\'; }
"$D" finetune --lora --model "$W/base.safetensors" --init-adapter "$W/ad.safetensors" \
    --data "$W/eval" --out "$W/adc.safetensors" --steps 2 --batch 2 --lr 1e-2 --cache "$W/cache" $S
training "$W/ad.safetensors" >"$W/ad.training"
training "$W/adc.safetensors" >"$W/adc.training"
cat "$W/adc.training"
grep -q '"command":"docseek finetune --lora"' "$W/ad.training"
grep -q "\"data\":\\[\"$W/data\"\\]" "$W/ad.training"
grep -q '"steps":4' "$W/ad.training"
grep -q "\"data\":\\[\"$W/eval\"\\].*\"init\":{\"adapter\":\"$W/ad.safetensors\"" "$W/adc.training"
grep -q '"steps":2,' "$W/adc.training"
grep -q '"init":{.*"steps":4' "$W/adc.training"
echo "adapters record their training, and a continued one its start's"
"$D" finetune --merge --model "$W/base.safetensors" --adapter "$W/ad.safetensors" \
    --out "$W/merged.safetensors"
a=$("$D" eval --gt "$W/eval" --extractor model --model "$W/base.safetensors" \
    --adapter "$W/ad.safetensors" $S --worst 0 | grep overall)
b=$("$D" eval --gt "$W/eval" --extractor model --model "$W/merged.safetensors" $S --worst 0 |
    grep overall)
test "$sum1" = "$(cksum <"$W/base.safetensors")"
test -n "$a"
test -n "$b"
fa=$(echo "$a" | awk '{print $NF}')
fb=$(echo "$b" | awk '{print $NF}')
echo "base + adapter and merged model both extract (F1 $fa and $fb); base file unchanged"
# A type read only when named (form_entities) takes its own adapter from beside the
# model, MODEL.TYPE.lora.safetensors: the same answer as naming the adapter, and one
# that differs from the base's; other types do not use it.
# (adi is trained further than ad, so that what it reads differs from the base's)
"$D" finetune --lora --model "$W/base.safetensors" --data "$W/data" --out "$W/adi.safetensors" \
    --steps 20 --batch 2 --rank 4 --lr 3e-2 --cache "$W/cache" $S
doc=$(ls "$W"/eval/*.pdf | head -1)
x() { "$D" extract "$doc" --model "$@" $S 2>/dev/null | sed 's/"timings_ms":{[^}]*}//; s/"model":"[^"]*"//'; }
plain=$(x "$W/base.safetensors" --type form_entities)
named=$(x "$W/base.safetensors" --type form_entities --adapter "$W/adi.safetensors")
inv=$(x "$W/base.safetensors" --type invoice)
cp "$W/base.safetensors" "$W/typed.safetensors"
cp "$W/adi.safetensors" "$W/typed.form_entities.lora.safetensors"
beside=$(x "$W/typed.safetensors" --type form_entities)
inv2=$(x "$W/typed.safetensors" --type invoice)
# (one test a line: under set -e a failing test before a && would not stop the script)
test -n "$plain"
test "$beside" = "$named"
test "$named" != "$plain"
test "$inv" = "$inv2"
echo "a form_entities adapter beside the model reads that type as --adapter does; invoices unchanged"
# A routed type's adapter beside the model (a receipt specialist) is used when the
# caller names the type, as --adapter would be; a document the model routes itself
# is named by the base weights and then read by the adapter of the type it named:
# the fields of naming the type, the type's confidence of the base's routing.
cp "$W/base.safetensors" "$W/inv.safetensors"
cp "$W/adi.safetensors" "$W/inv.invoice.lora.safetensors"
inv_named=$(x "$W/base.safetensors" --type invoice --adapter "$W/adi.safetensors")
inv_beside=$(x "$W/inv.safetensors" --type invoice)
routed=$(x "$W/base.safetensors")
routed_beside=$(x "$W/inv.safetensors")
fields() { echo "$1" | sed 's/.*"fields"://; s/,"pages".*//'; }
type_conf() { echo "$1" | sed 's/.*"type_confidence":\([0-9.e-]*\).*/\1/'; }
test "$inv_beside" = "$inv_named"
test "$inv_named" != "$inv"
echo "$routed" | grep -q '"doc_type":"invoice"'
test "$(fields "$routed")" != "$(fields "$inv_beside")"
test "$(fields "$routed_beside")" = "$(fields "$inv_beside")"
test "$(type_conf "$routed_beside")" = "$(type_conf "$routed")"
echo "an invoice adapter beside the model reads invoices named so, and those it routes itself"
# --no-type-adapters: the base weights alone, routed or named (extract, ingest and eval)
test "$(x "$W/inv.safetensors" --no-type-adapters)" = "$routed"
test "$(x "$W/inv.safetensors" --type invoice --no-type-adapters)" = "$inv"
ev() { "$D" eval --gt "$W/eval" --extractor model $S --worst 0 --model "$@" | grep overall; }
test "$(ev "$W/inv.safetensors" --no-type-adapters)" = "$(ev "$W/base.safetensors")"
"$D" ingest "$W/eval" --glob '*.pdf' --out "$W/ingest.jsonl" --model "$W/inv.safetensors" \
    --no-type-adapters $S 2>/dev/null
"$D" ingest "$W/eval" --glob '*.pdf' --out "$W/ingest-base.jsonl" --model "$W/base.safetensors" \
    $S 2>/dev/null
"$D" ingest "$W/eval" --glob '*.pdf' --out "$W/ingest-typed.jsonl" --model "$W/inv.safetensors" \
    $S 2>/dev/null
# (how many documents were decoded together varies with timing: "batch" goes too)
strip() { sed 's/"timings_ms":{[^}]*}//; s/"model":"[^"]*"//; s/"batch":[0-9]*//' "$1" | sort; }
test "$(strip "$W/ingest.jsonl")" = "$(strip "$W/ingest-base.jsonl")"
test "$(strip "$W/ingest-typed.jsonl")" != "$(strip "$W/ingest-base.jsonl")"
# serve too, from the command line or its configuration file
. "$SRC/tests/serve-start.sh"
served() { # serve options...: the fields serve answers for $doc, routed
    serve_start "$D" "$SRC" "$W/port" "$W/serve.log" --workers 1 --threads 1 "$@"
    curl -s --data-binary @"$doc" -H "Content-Type: application/pdf" \
        "http://127.0.0.1:$SERVE_PORT/v1/extract" >"$W/served.json"
    kill "$SERVE_PID"
    wait "$SERVE_PID"
    fields "$(cat "$W/served.json")"
}
echo '{"no-type-adapters": true}' >"$W/serve.json"
test "$(served --model "$W/inv.safetensors")" = "$(fields "$routed_beside")"
test "$(served --model "$W/inv.safetensors" --no-type-adapters)" = "$(fields "$routed")"
test "$(served --model "$W/inv.safetensors" --config "$W/serve.json")" = "$(fields "$routed")"
echo '{"no-type-adapters": 1}' >"$W/serve.json"
if "$D" serve --config "$W/serve.json" 2>"$W/serve.log"; then
    echo "serve took a number for --no-type-adapters"
    exit 1
fi
grep -q "serve.json: no-type-adapters: takes true or false" "$W/serve.log"
echo "--no-type-adapters reads with the base weights alone (extract, ingest, eval, serve)"
# Invoices finetuned on a model with an invoice adapter go on training that adapter (one
# named at inference replaces the type's own), unless --fresh; --rehearse mixes other
# documents in, and the adapter's record names them.
"$D" finetune --lora --model "$W/inv.safetensors" --data "$W/eval" --rehearse "$W/data" \
    --out "$W/adt.safetensors" --steps 2 --batch 2 --lr 1e-2 --cache "$W/cache" $S 2>"$W/adt.log"
grep -q "going on training the model's invoice adapter" "$W/adt.log"
grep -q "2 documents to adapt to, 6 rehearsed" "$W/adt.log"
grep -q "adapter parameters on 8 documents" "$W/adt.log"
training "$W/adt.safetensors" >"$W/adt.training"
grep -q "\"init\":{\"adapter\":\"$W/inv.invoice.lora.safetensors\"" "$W/adt.training"
grep -q "\"rehearse\":\\[\"$W/data\"\\]" "$W/adt.training"
"$D" finetune --lora --fresh --model "$W/inv.safetensors" --data "$W/eval" --rank 4 \
    --out "$W/adf.safetensors" --steps 2 --batch 2 --lr 1e-2 --cache "$W/cache" $S 2>"$W/adf.log"
if grep -q "going on training" "$W/adf.log"; then exit 1; fi
if training "$W/adf.safetensors" | grep -q '"init"'; then exit 1; fi
echo "finetuning invoices goes on with the model's invoice adapter, --fresh starts anew"
# --repeat lists the user's documents N times in an epoch beside the rehearsed ones
# (prepared once; the record keeps N); fewer than one time is refused.
"$D" finetune --lora --fresh --model "$W/inv.safetensors" --data "$W/eval" --rehearse "$W/data" \
    --repeat 3 --rank 4 --out "$W/adr.safetensors" --steps 2 --batch 2 --lr 1e-2 \
    --cache "$W/cache" $S 2>"$W/adr.log"
grep -q "each of the 2 documents listed 3 times" "$W/adr.log"
grep -q "2 documents to adapt to, 6 rehearsed" "$W/adr.log"
grep -q "adapter parameters on 8 documents" "$W/adr.log"
# each prepared once, the two listed three times in an epoch: 2 x 3 + 6
grep -q "train: 8 documents (0 skipped; 12 listed an epoch)" "$W/adr.log"
training "$W/adr.safetensors" | grep -q '"repeat":3'
if "$D" finetune --lora --model "$W/inv.safetensors" --data "$W/eval" --repeat 0 \
    --out "$W/adr0.safetensors" 2>"$W/adr0.log"; then
    echo "--repeat 0 was not refused"
    exit 1
fi
grep -q "bad value '0' for --repeat" "$W/adr0.log"
echo "--repeat 3: the user's documents listed three times beside the rehearsed ones"
# Adapters on the experts too: trained, reloaded for extraction and merged; resuming
# an attention-only checkpoint as an experts adapter is refused by name.
"$D" finetune --lora --experts --model "$W/base.safetensors" --data "$W/data" \
    --out "$W/ade.safetensors" --steps 2 --batch 2 --rank 4 --lr 1e-2 --cache "$W/cache" $S
"$D" eval --gt "$W/eval" --extractor model --model "$W/base.safetensors" \
    --adapter "$W/ade.safetensors" $S --worst 0 | grep -q overall
"$D" finetune --merge --model "$W/base.safetensors" --adapter "$W/ade.safetensors" \
    --out "$W/merged-e.safetensors"
test "$(wc -c <"$W/ade.safetensors")" -gt "$(wc -c <"$W/ad.safetensors")"
if "$D" finetune --lora --experts --model "$W/base.safetensors" --data "$W/data" \
    --out "$W/ad2.safetensors" --steps 4 --batch 2 --rank 4 --lr 1e-2 --cache "$W/cache" $S \
    --resume 2>"$W/refused.txt"; then
    echo "resuming an attention-only checkpoint with --experts was not refused"
    exit 1
fi
grep -i "experts" "$W/refused.txt"
echo "adapter on the experts: trained, extracts, merges; a mismatched resume is refused"
