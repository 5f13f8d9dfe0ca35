// Debian's liblz4-dev (pkg-config `liblz4`): the block API used for value compression.
#include <lz4.h>
