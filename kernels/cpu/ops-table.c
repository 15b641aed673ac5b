// ops-table.c: the CPU reference table. Adding an op means adding it to
// ds_ops (kernels/ops.h), here, and to every other backend's table.
#include "kernels/cpu/cpu-impl.h"

static const ds_ops ds_cpu_ops = {
    .name = "cpu",
    .alloc = ds_cpu_alloc,
    .free = ds_cpu_free,
    .upload = ds_cpu_upload,
    .download = ds_cpu_download,
    .zero = ds_cpu_zero,
    .sync = ds_cpu_sync,
    .add = ds_cpu_add,
    .axpy = ds_cpu_axpy,
    .sumsq = ds_cpu_sumsq,
    .matmul_forward = ds_cpu_matmul_forward,
    .matmul_backward = ds_cpu_matmul_backward,
    .matmul_grouped_forward = ds_cpu_matmul_grouped_forward,
    .matmul_grouped_backward = ds_cpu_matmul_grouped_backward,
    .matmul_bf16_forward = ds_cpu_matmul_bf16_forward,
    .matmul_grouped_bf16_forward = ds_cpu_matmul_grouped_bf16_forward,
    .embedding_forward = ds_cpu_embedding_forward,
    .embedding_backward = ds_cpu_embedding_backward,
    .rmsnorm_forward = ds_cpu_rmsnorm_forward,
    .rmsnorm_backward = ds_cpu_rmsnorm_backward,
    .layernorm_forward = ds_cpu_layernorm_forward,
    .layernorm_backward = ds_cpu_layernorm_backward,
    .softmax_forward = ds_cpu_softmax_forward,
    .softmax_backward = ds_cpu_softmax_backward,
    .crossentropy_forward = ds_cpu_crossentropy_forward,
    .crossentropy_backward = ds_cpu_crossentropy_backward,
    .gelu_forward = ds_cpu_gelu_forward,
    .gelu_backward = ds_cpu_gelu_backward,
    .silu_forward = ds_cpu_silu_forward,
    .silu_backward = ds_cpu_silu_backward,
    .swiglu_forward = ds_cpu_swiglu_forward,
    .swiglu_backward = ds_cpu_swiglu_backward,
    .rope_forward = ds_cpu_rope_forward,
    .rope_backward = ds_cpu_rope_backward,
    .attention_forward = ds_cpu_attention_forward,
    .attention_backward = ds_cpu_attention_backward,
    .moe_route_forward = ds_cpu_moe_route_forward,
    .moe_route_backward = ds_cpu_moe_route_backward,
    .moe_permute = ds_cpu_moe_permute,
    .moe_dispatch_forward = ds_cpu_moe_dispatch_forward,
    .moe_dispatch_backward = ds_cpu_moe_dispatch_backward,
    .moe_combine_forward = ds_cpu_moe_combine_forward,
    .moe_combine_backward = ds_cpu_moe_combine_backward,
    .adamw_update = ds_cpu_adamw_update,
};

const ds_ops *ds_ops_cpu(void) {
    return &ds_cpu_ops;
}
