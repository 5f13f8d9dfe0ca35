// A software prefetch (a hint; it never faults, whatever the address), which Swift has no
// spelling for. Inlined into the caller: the importer emits static inline bodies.
#ifndef RINGCACHE_PREFETCH_H
#define RINGCACHE_PREFETCH_H

static inline void ringcache_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

#endif
