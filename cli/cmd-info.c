// cmd-info.c: `docseek info`: what this build and this machine offer, and
// the environment facts that silently cost speed (OMP_THREAD_LIMIT for
// Tesseract). Read-only; changes nothing.
#include "cli/cli.h"
#include "core/error.h"
#include "kernels/ops.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef DS_HAVE_CUDA
int ds_cuda_device_count(void);
int ds_cuda_device_name(int index, char *buf, size_t size);
#endif

int ds_cmd_info(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        printf("usage: docseek info\nPrints the build configuration, the CPU and BLAS in use, "
               "visible GPUs and environment warnings.\n");
        return 0;
    }
    printf("docseek %s\n", DS_VERSION);
    printf("cpu threads online: %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
    printf("blas: %s (kernels pin it to 1 thread and split work themselves)\n",
           openblas_get_config());
#ifdef DS_HAVE_CUDA
    int n = ds_cuda_device_count();
    printf("cuda backend: compiled; %d GPU(s) visible\n", n);
    for (int i = 0; i < n; i++) {
        char name[256];
        if (ds_cuda_device_name(i, name, sizeof name) == 0) printf("  cuda:%d %s\n", i, name);
    }
#else
    printf("cuda backend: not compiled (nvcc was not found at build time)\n");
#endif
    ds_ctx *ctx = ds_ctx_new(DS_BACKEND_CPU, 1);
    if (!ctx) return ds_cli_fail("info", DS_E_NOMEM);
    printf("op table: %s\n", ctx->ops->name);
    ds_ctx_free(ctx);
    const char *omp = getenv("OMP_THREAD_LIMIT");
    if (!omp || strcmp(omp, "1") != 0)
        printf("warning: OMP_THREAD_LIMIT=1 is not set; OCR (Tesseract) runs ~7x slower "
               "without it. Export it before starting docseek.\n");
    return 0;
}
