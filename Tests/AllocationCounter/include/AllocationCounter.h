#ifndef ALLOCATION_COUNTER_H
#define ALLOCATION_COUNTER_H

#include <stdint.h>

/// Heap allocations (malloc, calloc, realloc, memalign, aligned_alloc, posix_memalign, valloc, pvalloc) made so far
/// on the calling thread.
///
/// Linking this target replaces the process's allocator entry points with ones that count, per thread, and then
/// call glibc's own. A test reads the count on the thread it measures, so work on other threads never adds to it.
uint64_t allocation_counter_thread_total(void);

#endif
