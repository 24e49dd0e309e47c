// The model's GPU kernels, compiled for the host: Sources/Inference/CUDA/Kernels/all.cu with WK_EMULATOR
// defined (by this target's settings), so its registry lands in the emulator's.
#include "../../Sources/Inference/CUDA/Kernels/all.cu"
