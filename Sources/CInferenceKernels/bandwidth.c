// A streaming read for the benchmark's memory-bandwidth floor (Benchmarks/InferenceBench).
#include "kernels.h"

float wk_sum_f32(const float *x, size_t n) {
    float acc[16] = {0};  // independent lanes, so -O3 vectorizes and loads are the only limit
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j];
    float s = 0;
    for (int j = 0; j < 16; j++) s += acc[j];
    for (; i < n; i++) s += x[i];
    return s;
}
