// The emulator's own test kernels (SelfTest/selftest.cu), compiled the way kernels.cpp compiles the model's.
#include "SelfTest/selftest.cu"
