// malloc_usable_size (glibc's <malloc.h>, not exported by Swift's Glibc module): memory
// accounting counts the chunks malloc really hands out, not the bytes asked for.
#if defined(__linux__)
#include <malloc.h>
#endif
