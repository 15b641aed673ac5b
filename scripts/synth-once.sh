# synth-once.sh: sourced by the training scripts that make their own data (train-*.sh):
# OCR at one thread, the docseek binary $DS ($DOCSEEK, default build/docseek), the data
# folder $D (out/data), and syn DIR ARGS..., which generates a set once (a folder that
# exists is kept, so a rerun trains on the same documents).
export OMP_THREAD_LIMIT=1
DS=${DOCSEEK:-build/docseek}
D=out/data
mkdir -p $D
syn() { # DIR ARGS...: generated once
  dir=$1
  shift
  [ -d "$dir" ] || $DS synth "$@" --out "$dir"
}
