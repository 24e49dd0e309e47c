#ifndef WARDEN_KERNELS_H
#define WARDEN_KERNELS_H
// Placeholder: inference kernels are declared here.
int warden_kernels_placeholder(void);
#endif
