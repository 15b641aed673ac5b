// fuzz-safetensors.c: libFuzzer harness for the safetensors parser.
// Build: cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DDS_FUZZ=ON -DDS_CUDA=OFF
// Run:   mkdir -p /tmp/corpus && build-fuzz/fuzz_safetensors /tmp/corpus tests/corpus/safetensors
//        -max_total_time=120   (libFuzzer writes new inputs into the first folder only)
#include "core/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ds_fuzz_safetensors(data, size);
    return 0;
}
