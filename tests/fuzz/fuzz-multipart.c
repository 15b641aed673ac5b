// fuzz-multipart.c: libFuzzer harness for the multipart/form-data parser
// (the first line of an input is the Content-Type value, the rest the body).
// Build: cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DDS_FUZZ=ON -DDS_CUDA=OFF
// Run:   mkdir -p /tmp/corpus && build-fuzz/fuzz_multipart /tmp/corpus tests/corpus/multipart
//        -max_total_time=120   (libFuzzer writes new inputs into the first folder only)
#include "server/multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ds_fuzz_multipart(data, size);
    return 0;
}
