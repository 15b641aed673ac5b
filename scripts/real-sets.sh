# real-sets.sh: sourced by the scripts that score or adapt on ../shared/data's public
# sets. Splits them in halves under $R (out/real; links, nothing copied): SROIE receipts
# 000-019 (sroie-a) / 020-039 (sroie-b), the Kleister NDAs' first / last ten lines,
# FUNSD's first / last ten forms by name; and the first halves again into SET-a-fit (three
# quarters) and SET-a-dev (the last quarter), SROIE's as 000-014 / 015-019.
DATA=$(cd "$(dirname "$0")/../../shared/data" && pwd)
R=out/real
sroie_link() { # NNN HALF: receipt NNN's image, truth and words in $R/sroie-HALF
  mkdir -p $R/sroie-$2/img $R/sroie-$2/key $R/sroie-$2/box
  for k in img/$1.jpg key/$1.json box/$1.csv; do ln -sf "$DATA/sroie-dev/$k" $R/sroie-$2/$k; done
}
mkdir -p $R/kleister-a $R/kleister-b
for i in $(seq -w 0 39); do
  h=a; [ "$i" -ge 20 ] && h=b
  sroie_link 0$i $h
done
for h in a b; do ln -sfn "$DATA/kleister-nda-dev/documents" $R/kleister-$h/documents; done
i=0
for f in $(ls "$DATA/funsd-dev/annotations" | sort); do
  h=a; [ $i -ge 10 ] && h=b
  mkdir -p $R/funsd-$h/annotations $R/funsd-$h/images
  ln -sf "$DATA/funsd-dev/annotations/$f" $R/funsd-$h/annotations/$f
  ln -sf "$DATA/funsd-dev/images/${f%.json}.png" $R/funsd-$h/images/${f%.json}.png
  i=$((i + 1))
done
head -n 10 "$DATA/kleister-nda-dev/labels.tsv" > $R/kleister-a/labels.tsv
tail -n +11 "$DATA/kleister-nda-dev/labels.tsv" > $R/kleister-b/labels.tsv
# the first half split again: SET-a-fit trains the adapters, SET-a-dev picks their step
for h in fit dev; do
  mkdir -p $R/kleister-a-$h $R/funsd-a-$h/annotations $R/funsd-a-$h/images
  ln -sfn "$DATA/kleister-nda-dev/documents" $R/kleister-a-$h/documents
done
for i in $(seq -w 0 19); do
  h=fit; [ "$i" -ge 15 ] && h=dev
  sroie_link 0$i a-$h
done
head -n 7 $R/kleister-a/labels.tsv > $R/kleister-a-fit/labels.tsv
tail -n 3 $R/kleister-a/labels.tsv > $R/kleister-a-dev/labels.tsv
i=0
for f in $(ls $R/funsd-a/annotations | sort); do
  h=fit; [ $i -ge 7 ] && h=dev
  ln -sf "$(readlink $R/funsd-a/annotations/$f)" $R/funsd-a-$h/annotations/$f
  ln -sf "$(readlink $R/funsd-a/images/${f%.json}.png)" $R/funsd-a-$h/images/${f%.json}.png
  i=$((i + 1))
done
