// One translation unit: every kernel file, and the emulator registry (see README.md).
#include "common.cuh"
#include "embed.cu"
#include "norm.cu"
#include "matmul.cu"
#include "rope.cu"
#include "attention.cu"
#include "swiglu.cu"
#include "sampling.cu"

#ifdef WK_EMULATOR
WK_EMU_REGISTRY_BEGIN
WK_EMU_ENTRY(wk_embed)
WK_EMU_ENTRY(wk_rmsnorm_quantize)
WK_EMU_ENTRY(wk_quantize_q8_rows)
WK_EMU_ENTRY(wk_matmul_q4_1_dp4a)
WK_EMU_ENTRY(wk_matmul_q8_0_dp4a)
WK_EMU_ENTRY(wk_matmul_swiglu_dp4a)
WK_EMU_ENTRY(wk_rope_store_kv)
WK_EMU_ENTRY(wk_matmul_rope_store_dp4a)
WK_EMU_ENTRY(wk_attention)
WK_EMU_ENTRY(wk_swiglu_quantize)
WK_EMU_ENTRY(wk_argmax)
WK_EMU_ENTRY(wk_sample)
WK_EMU_REGISTRY_END
#endif
