// fuzz-ingest.c: libFuzzer harness for document ingest (detection, Poppler,
// libvips loaders, layout, encoder input) through ds_fuzz_ingest, which uses
// small limits and no OCR.
// Build: cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DDS_FUZZ=ON -DDS_CUDA=OFF
// Run:   mkdir -p /tmp/fuzz-ingest && OMP_THREAD_LIMIT=1 build-fuzz/fuzz_ingest /tmp/fuzz-ingest \
//          tests/corpus/ingest -max_len=8192 -max_total_time=120
// (libFuzzer adds new inputs to the first folder: keep it out of the source tree.)
#include "ingest/ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

// Fontconfig's own start-up leak (reached through Poppler's font lookup) is not
// ours: see the same hook in tests/ingest-fixtures.c.
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) {
    return "leak:libfontconfig.so\n";
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ds_fuzz_ingest(data, size);
    return 0;
}
