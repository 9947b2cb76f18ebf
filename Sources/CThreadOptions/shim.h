#ifndef TOCK_CTHREADOPTIONS_SHIM_H
#define TOCK_CTHREADOPTIONS_SHIM_H

#ifdef __linux__
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

/* prctl is variadic, which Swift cannot call. */

/* Sets the calling thread's timer slack: how much later than asked the kernel may end its timed
   sleeps (Linux's default is 50 microseconds). */
static inline int tock_set_timer_slack(unsigned long nanoseconds) {
#ifdef __linux__
    return prctl(PR_SET_TIMERSLACK, nanoseconds, 0, 0, 0);
#else
    (void)nanoseconds;
    return 0;
#endif
}

/* Names the calling thread; Linux keeps the first 15 bytes. */
static inline int tock_set_thread_name(const char *name) {
#ifdef __linux__
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
#else
    (void)name;
    return 0;
#endif
}

/* Sets the calling thread's nice value (Linux keeps one per thread): a thread at 10 yields the
   CPU to the process's other threads whenever they want it. */
static inline int tock_set_thread_nice(int nice) {
#ifdef __linux__
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
#else
    (void)nice;
    return 0;
#endif
}

#endif
