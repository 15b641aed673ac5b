#!/bin/sh
# sample-subset.sh SETS DEST PDFS SCANS: links into DEST/TYPE, for each of the four
# types, the first PDFS born-digital documents (TYPE-100-*) and the first SCANS scans
# (TYPE-200-*) of the committed sample sets in SETS, each with its truth. The tests
# that read part of a set (tests/default-model.sh, tests/extract-samples.sh) pick it
# here, so they read the same documents.
set -e
SETS=$1
DEST=$2
for t in invoice receipt form contract; do
  mkdir -p "$DEST/$t"
  for doc in $(ls "$SETS/$t" | grep -e '-100-' | grep -v '[.]json$' | head -n "$3") \
      $(ls "$SETS/$t" | grep -e '-200-' | grep -v '[.]json$' | head -n "$4"); do
    ln -s "$SETS/$t/$doc" "$SETS/$t/${doc%.*}.json" "$DEST/$t/"
  done
done
