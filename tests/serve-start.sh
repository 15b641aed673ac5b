# serve-start.sh: sourced (POSIX sh) by the scripts that put `docseek serve` to work
# (tests/serve.sh, tests/serve-load.sh, bench/serve-compare.sh, bench/serve-soak.sh).
# serve_start DOCSEEK SOURCE_DIR PORT_FILE LOG [serve options...]: starts the server on
# a free loopback port with the sample schemas and the default model (options after
# LOG may name others) and waits until it listens (up to 60 s: an ASan build starts
# slowly). Sets SERVE_PID and SERVE_PORT; returns 1 if it never listened.
serve_start() {
  _d=$1 _src=$2 _portfile=$3 _log=$4
  shift 4
  rm -f "$_portfile"
  "$_d" serve --port 0 --port-file "$_portfile" --schemas "$_src/samples/schemas" \
    --model "$_src/models/default.safetensors" "$@" 2>"$_log" &
  SERVE_PID=$!
  _i=0
  while [ ! -s "$_portfile" ] && [ $_i -lt 600 ]; do
    sleep 0.1
    _i=$((_i + 1))
  done
  [ -s "$_portfile" ] || return 1
  SERVE_PORT=$(cat "$_portfile")
}
