# receipt-sets.sh: the receipt specialist's generated documents, sourced (after
# synth-once.sh) by train-receipt-adapter.sh and train-receipt-real.sh. Makes each set
# once in $D and lists the training sets in $receipt_sets: till receipts as Malaysian
# shops print them (synth receipt families 12-23) and the same varied (24-35), 600 of
# them scanned, beside the classic receipts the base already reads. Held out, seeds
# never trained on and half of them scans: heldout-varied7 and heldout-till; printed on
# worn thermal paper and scanned (synth --thermal), heldout-thermal.
syn $D/s3-receipt-till --type receipt --count 500 --seed 3600 --families 12-23
syn $D/s3-receipt-till-scan --type receipt --count 300 --seed 3700 --families 12-23 --scan
syn $D/s7-receipt-varied --type receipt --count 500 --seed 3650 --families 24-35
syn $D/s7-receipt-varied-scan --type receipt --count 300 --seed 3750 --families 24-35 --scan
syn $D/s3-receipt --type receipt --count 300 --seed 1000
syn $D/s3-receipt-scan --type receipt --count 60 --seed 2000 --scan
syn $D/s3-receipt-scan2 --type receipt --count 120 --seed 3300 --scan
if [ ! -d $D/heldout-varied7 ]; then
  $DS synth --type receipt --count 24 --seed 9540 --families 24-35 --out $D/heldout-varied7
  $DS synth --type receipt --count 24 --seed 9640 --families 24-35 --scan --out $D/heldout-varied7
fi
if [ ! -d $D/heldout-thermal ]; then
  $DS synth --type receipt --count 24 --seed 9560 --families 12-23 --scan --thermal --out $D/heldout-thermal
  $DS synth --type receipt --count 24 --seed 9660 --families 24-35 --scan --thermal --out $D/heldout-thermal
fi
if [ ! -d $D/heldout-till ]; then
  $DS synth --type receipt --count 24 --seed 9520 --families 12-23 --out $D/heldout-till
  $DS synth --type receipt --count 24 --seed 9620 --families 12-23 --scan --out $D/heldout-till
fi
receipt_sets="s3-receipt-till s3-receipt-till-scan s7-receipt-varied s7-receipt-varied-scan
  s3-receipt s3-receipt-scan s3-receipt-scan2"
