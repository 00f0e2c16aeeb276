/* map_guard.c -- a mapped capture file that shrinks while it is read.
 *
 * When another process truncates a file we have mapped, touching a page
 * past its new end raises SIGBUS, which would kill tcplens (SPEC 5: no
 * input may crash it). The handler here puts zero pages over the rest of
 * the mapping and marks the reader; the faulting load then reads zeros, a
 * zero record header sends the reader off its fast path, and the reader
 * reports the shrink as an error at that record, after every record read
 * before it. A SIGBUS outside our mappings keeps its default action.
 */
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "source/source_int.h"

/* Readers with a mapping; one per open file (files are read one at a time,
 * the slots leave room for several sources in one process). */
#define GUARD_SLOTS 8

static tl__reader *volatile guarded[GUARD_SLOTS];
static uintptr_t page_mask;
static struct sigaction before;  /* the handler ours replaced */

static void on_sigbus(int sig, siginfo_t *si, void *uctx)
{
    (void)sig;
    (void)uctx;
    uintptr_t a = (uintptr_t)si->si_addr;
    for (int i = 0; i < GUARD_SLOTS; i++) {
        tl__reader *r = guarded[i];
        if (!r)
            continue;
        uintptr_t base = (uintptr_t)r->buf, end = base + r->map_len;
        if (a < base || a >= end)
            continue;
        uintptr_t from = a & ~page_mask;
        /* mmap is a plain system call here, safe in a handler on Linux. */
        void *m = mmap((void *)from, end - from, PROT_READ,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
        if (m == MAP_FAILED)
            break;
        r->shrunk = 1;
        return;
    }
    /* Not ours: put the handler before ours back; the load faults again. */
    sigaction(SIGBUS, &before, NULL);
}

void tl__map_guard_add(tl__reader *r)
{
    /* Installed at every file, not once: someone may have replaced it. */
    struct sigaction sa, old;
    sa.sa_sigaction = on_sigbus;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
    if (sigaction(SIGBUS, &sa, &old) != 0)
        return;
    if (!(old.sa_flags & SA_SIGINFO) || old.sa_sigaction != on_sigbus)
        before = old;
    for (int i = 0; i < GUARD_SLOTS; i++)
        if (!guarded[i]) {
            guarded[i] = r;
            return;
        }
}

void tl__map_guard_remove(tl__reader *r)
{
    for (int i = 0; i < GUARD_SLOTS; i++)
        if (guarded[i] == r)
            guarded[i] = NULL;
}

long long tl__map_size_now(const tl__reader *r)
{
    struct stat st;
    if (r->map_fd < 0 || fstat(r->map_fd, &st) != 0)
        return -1;
    return (long long)st.st_size;
}

bool tl__map_shrunk_below(const tl__reader *r, size_t need)
{
    long long now = tl__map_size_now(r);
    return now >= 0 && (unsigned long long)now < need;
}
