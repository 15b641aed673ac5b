// fuzz-safetensors.c: libFuzzer harness for the safetensors parser.
// Build: cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DDS_FUZZ=ON -DDS_CUDA=OFF
// Run:   build-fuzz/fuzz_safetensors tests/corpus/safetensors -max_total_time=120
#include "core/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ds_fuzz_safetensors(data, size);
    return 0;
}
