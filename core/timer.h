// timer.h: monotonic time for measuring stages and rates; never wall-clock.
#ifndef DS_TIMER_H
#define DS_TIMER_H

#include <stdint.h>
#include <time.h>

// Nanoseconds from CLOCK_MONOTONIC (an arbitrary origin: only differences mean anything).
static inline uint64_t ds_time_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline double ds_time_s(void) {
    return (double)ds_time_ns() * 1e-9;
}

#endif
