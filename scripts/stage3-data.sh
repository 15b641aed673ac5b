# stage3-data.sh: sourced by the third-stage training scripts (train-*.sh): makes
# the share of the first two stages' data (out/data/s3-*) that a continued model
# trains on beside its new documents, so that what it knew stays. Needs $DS (the
# docseek binary) and $D (out/data).
for t in invoice receipt form contract; do
  [ -d $D/s3-$t ] || $DS synth --type $t --count 300 --seed 1000 --out $D/s3-$t
  [ -d $D/s3-$t-scan ] || $DS synth --type $t --count 60 --seed 2000 --scan --out $D/s3-$t-scan
done
[ -d $D/s3-contract-filed ] ||
  $DS synth --type contract --count 200 --seed 3000 --families 12-23 --out $D/s3-contract-filed
[ -d $D/s3-contract-filed-long ] ||
  $DS synth --type contract --count 120 --seed 3400 --families 24-35 --out $D/s3-contract-filed-long
[ -d $D/s3-form-scan2 ] || $DS synth --type form --count 120 --seed 3200 --scan --out $D/s3-form-scan2
[ -d $D/s3-receipt-scan2 ] ||
  $DS synth --type receipt --count 120 --seed 3300 --scan --out $D/s3-receipt-scan2
