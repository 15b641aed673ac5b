#!/bin/sh
# train-options.sh DOCSEEK SOURCE_DIR WORK_DIR: train and finetune read their shared options
# (schedule, optimiser, evaluation, preparation, device) with one parser: each bad
# value below is refused by both, before any work, with exit status 2 and the same
# message naming the option and what it takes; each good value gets past the options
# (the run then fails on the missing model, status 1).
set -u
D=$1
SRC=$2
W=$3
rm -rf "$W"
mkdir -p "$W"
fails=0
# train / tune STATUS ARGS...: the command with ARGS must exit with STATUS; its
# stderr is left in $W/train.err / $W/finetune.err
check() {
  cmd=$1 want=$2
  shift 2
  "$D" "$cmd" "$@" >/dev/null 2>"$W/$cmd.err"
  got=$?
  if [ "$got" != "$want" ]; then
    echo "FAIL $cmd $*: exit $got, wanted $want: $(head -n 1 "$W/$cmd.err")"
    fails=$((fails + 1))
  fi
}
train() {
  want=$1
  shift
  check train "$want" --data "$W/none" --out "$W/m" --init "$W/none.safetensors" "$@"
}
tune() {
  want=$1
  shift
  check finetune "$want" --lora --data "$W/none" --out "$W/a" --model "$W/none.safetensors" "$@"
}
says() { # CMD TEXT: the command's message holds TEXT
  grep -qF "$2" "$W/$1.err" || { echo "FAIL $1: '$2' not in: $(head -n 1 "$W/$1.err")"; fails=$((fails + 1)); }
}
n=0
while read -r opt value; do
  train 2 "$opt" "$value"
  says train "bad value '$value' for $opt"
  tune 2 "$opt" "$value"
  says finetune "bad value '$value' for $opt"
  # the same words from both commands
  if [ "$(sed 's/^docseek train: //' "$W/train.err")" != "$(sed 's/^docseek finetune: //' "$W/finetune.err")" ]; then
    echo "FAIL $opt '$value': train and finetune say it differently"
    fails=$((fails + 1))
  fi
  n=$((n + 1))
done <<EOF
--steps 0
--steps 12x
--batch 0
--lr 0
--lr -1e-3
--lr nan
--lr 1e-50
--clip 1e39
--warmup -1
--eval-every -1
--checkpoint-every 2.5
--stop-after -3
--threads 0
--prep-threads none
--min-lr -0.1
--clip -1
--weight-decay inf
--seed -3
--seed 1e3
EOF
echo "$n bad values, each refused by both commands alike"
# finetune's own
for bad in "--rank 0" "--alpha 0" "--alpha -32" "--repeat 1001" "--repeat 0" "--keep-bar -1"; do
  tune 2 $bad
  says finetune "bad value"
done
# good values pass the options: the missing model fails the run after them
good="--steps 3 --batch 1 --lr 2e-4 --warmup 0 --eval-every 0 --checkpoint-every 0 --stop-after 1
  --threads 1 --prep-threads 1 --min-lr 0 --clip 0.5 --weight-decay 0.01 --seed 0 --recompute
  --given-type --cache $W/cache --device cpu --schemas $SRC/samples/schemas"
train 1 $good
says train "none.safetensors"
tune 1 $good --rank 4 --alpha 8 --repeat 3 --keep-bar 0
says finetune "none.safetensors"
[ $fails = 0 ] || exit 1
echo "train and finetune refuse the same bad values alike and take the good ones"
