// fuzz-tokenizer.c: libFuzzer harness for the tokenizer: the input is read as
// tokenizer JSON (every check of from_json) and as text to encode and decode
// exactly with a small built-in tokenizer (ds_fuzz_tokenizer).
// Build: cmake -S . -B build-fuzz -G Ninja -DCMAKE_C_COMPILER=clang -DDS_FUZZ=ON -DDS_CUDA=OFF
// Run:   mkdir -p /tmp/corpus && build-fuzz/fuzz_tokenizer /tmp/corpus tests/corpus/tokenizer
//        -max_total_time=120   (libFuzzer writes new inputs into the first folder only)
#include "text/tokenizer.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ds_fuzz_tokenizer(data, size);
    return 0;
}
