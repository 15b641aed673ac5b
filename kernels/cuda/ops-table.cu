// ops-table.cu: the CUDA table, the same ops as kernels/cpu/ops-table.c over
// device pointers. Adding an op means adding it to ds_ops (kernels/ops.h), to
// the CPU reference and here, with a parity test in tests/test-cuda-*.c.
#include "kernels/cuda/cuda-impl.h"

static const ds_ops ds_cuda_ops = {
    .name = "cuda",
    .alloc = ds_cuda_alloc,
    .free = ds_cuda_free,
    .upload = ds_cuda_upload,
    .download = ds_cuda_download,
    .zero = ds_cuda_zero,
    .sync = ds_cuda_sync,
    .add = ds_cuda_add,
    .axpy = ds_cuda_axpy,
    .sumsq = ds_cuda_sumsq,
    .matmul_forward = ds_cuda_matmul_forward,
    .matmul_backward = ds_cuda_matmul_backward,
    // PENDING .matmul_grouped_forward = ds_cuda_matmul_grouped_forward,
    // PENDING .matmul_grouped_backward = ds_cuda_matmul_grouped_backward,
    // PENDING .matmul_bf16_forward = ds_cuda_matmul_bf16_forward,
    // PENDING .matmul_grouped_bf16_forward = ds_cuda_matmul_grouped_bf16_forward,
    // PENDING .embedding_forward = ds_cuda_embedding_forward,
    // PENDING .embedding_backward = ds_cuda_embedding_backward,
    // PENDING .rmsnorm_forward = ds_cuda_rmsnorm_forward,
    // PENDING .rmsnorm_backward = ds_cuda_rmsnorm_backward,
    // PENDING .layernorm_forward = ds_cuda_layernorm_forward,
    // PENDING .layernorm_backward = ds_cuda_layernorm_backward,
    // PENDING .softmax_forward = ds_cuda_softmax_forward,
    // PENDING .softmax_backward = ds_cuda_softmax_backward,
    // PENDING .crossentropy_forward = ds_cuda_crossentropy_forward,
    // PENDING .crossentropy_backward = ds_cuda_crossentropy_backward,
    // PENDING .gelu_forward = ds_cuda_gelu_forward,
    // PENDING .gelu_backward = ds_cuda_gelu_backward,
    // PENDING .silu_forward = ds_cuda_silu_forward,
    // PENDING .silu_backward = ds_cuda_silu_backward,
    // PENDING .swiglu_forward = ds_cuda_swiglu_forward,
    // PENDING .swiglu_backward = ds_cuda_swiglu_backward,
    // PENDING .rope_forward = ds_cuda_rope_forward,
    // PENDING .rope_backward = ds_cuda_rope_backward,
    // PENDING .attention_forward = ds_cuda_attention_forward,
    // PENDING .attention_backward = ds_cuda_attention_backward,
    // PENDING .moe_route_forward = ds_cuda_moe_route_forward,
    // PENDING .moe_route_backward = ds_cuda_moe_route_backward,
    // PENDING .moe_permute = ds_cuda_moe_permute,
    // PENDING .moe_dispatch_forward = ds_cuda_moe_dispatch_forward,
    // PENDING .moe_dispatch_backward = ds_cuda_moe_dispatch_backward,
    // PENDING .moe_combine_forward = ds_cuda_moe_combine_forward,
    // PENDING .moe_combine_backward = ds_cuda_moe_combine_backward,
    // PENDING .adamw_update = ds_cuda_adamw_update,
};

extern "C" const ds_ops *ds_ops_cuda(void) {
    return &ds_cuda_ops;
}
