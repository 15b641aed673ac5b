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
    .copy_2d = ds_cuda_copy_2d,
    .rows_add = ds_cuda_rows_add,
    .add = ds_cuda_add,
    .axpy = ds_cuda_axpy,
    .sumsq = ds_cuda_sumsq,
    .matmul_forward = ds_cuda_matmul_forward,
    .matmul_backward = ds_cuda_matmul_backward,
    .matmul_grouped_forward = ds_cuda_matmul_grouped_forward,
    .matmul_grouped_backward = ds_cuda_matmul_grouped_backward,
    .matmul_bf16_forward = ds_cuda_matmul_bf16_forward,
    .matmul_grouped_bf16_forward = ds_cuda_matmul_grouped_bf16_forward,
    .embedding_forward = ds_cuda_embedding_forward,
    .embedding_backward = ds_cuda_embedding_backward,
    .rmsnorm_forward = ds_cuda_rmsnorm_forward,
    .rmsnorm_backward = ds_cuda_rmsnorm_backward,
    .layernorm_forward = ds_cuda_layernorm_forward,
    .layernorm_backward = ds_cuda_layernorm_backward,
    .softmax_forward = ds_cuda_softmax_forward,
    .softmax_backward = ds_cuda_softmax_backward,
    .crossentropy_forward = ds_cuda_crossentropy_forward,
    .crossentropy_backward = ds_cuda_crossentropy_backward,
    .argmax_rows = ds_cuda_argmax_rows,
    .gelu_forward = ds_cuda_gelu_forward,
    .gelu_backward = ds_cuda_gelu_backward,
    .silu_forward = ds_cuda_silu_forward,
    .silu_backward = ds_cuda_silu_backward,
    .swiglu_forward = ds_cuda_swiglu_forward,
    .swiglu_backward = ds_cuda_swiglu_backward,
    .rope_forward = ds_cuda_rope_forward,
    .rope_backward = ds_cuda_rope_backward,
    .attention_forward = ds_cuda_attention_forward,
    .attention_backward = ds_cuda_attention_backward,
    .moe_route_forward = ds_cuda_moe_route_forward,
    .moe_route_backward = ds_cuda_moe_route_backward,
    .moe_permute = ds_cuda_moe_permute,
    .moe_dispatch_forward = ds_cuda_moe_dispatch_forward,
    .moe_dispatch_backward = ds_cuda_moe_dispatch_backward,
    .moe_combine_forward = ds_cuda_moe_combine_forward,
    .moe_combine_backward = ds_cuda_moe_combine_backward,
    .adamw_update = ds_cuda_adamw_update,
};

extern "C" const ds_ops *ds_ops_cuda(void) {
    return &ds_cuda_ops;
}
