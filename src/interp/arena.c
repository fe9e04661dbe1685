/* arena.c -- the translated code's memory. A function's code is written once,
 * at load, and read at run time; a cold process pays a page fault for every
 * fresh heap page it writes, which on a virtual machine costs tens of
 * microseconds (bench/interp_load: a function module's first load took 4.0 ms of
 * CPU before, 2.8 ms with the arena, medians). So the code of a module comes
 * from one mapping made resident up front (MAP_POPULATE: one call, no fault
 * per page), sized from the code section, with malloc behind it when the
 * guess was short. */
#include <malloc.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "interp/internal.h"

/* Translated code measured 6 to 7 bytes per byte of code section on the
 * built function modules (bench/interp_load, code_KiB against wasm_KiB). */
#define CODE_PER_SECTION_BYTE 7
#define ARENA_MIN (64u << 10)  /* below this, malloc's own pages serve */
#define ARENA_MAX (256u << 20) /* a guess, not a limit: malloc takes the rest */

/* Under AddressSanitizer every body gets its own malloc block, so an overrun
 * of one is caught (the sanitizer build, the fuzz drivers). */
#if defined(__SANITIZE_ADDRESS__)
#define NO_ARENA 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NO_ARENA 1
#endif
#endif
#ifndef NO_ARENA
#define NO_ARENA 0
#endif

void lm__code_arena(lm_interp_module *m, size_t section_bytes) {
    if (NO_ARENA || m->arena || section_bytes > ARENA_MAX / CODE_PER_SECTION_BYTE) return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t size = (section_bytes * CODE_PER_SECTION_BYTE + page - 1) / page * page;
    if (size < ARENA_MIN) return;
    void *p =
        mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED) return;
    m->arena = p;
    m->arena_size = size;
    m->arena_used = 0;
}

void *lm__code_alloc(lm_interp_module *m, size_t bytes) {
    if (m->arena && bytes <= m->arena_size - m->arena_used) {
        void *p = m->arena + m->arena_used;
        m->arena_used += (bytes + 15) & ~(size_t)15;
        if (m->arena_used > m->arena_size) m->arena_used = m->arena_size;
        return p;
    }
    return malloc(bytes);
}

void lm__code_free(lm_interp_module *m, void *p) {
    uint8_t *b = p;
    if (m->arena && b >= m->arena && b < m->arena + m->arena_size) return;
    free(p);
}

void lm__code_arena_trim(lm_interp_module *m) {
    if (!m->arena) return;
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t keep = (m->arena_used + page - 1) / page * page;
    if (keep == 0) keep = page;
    if (keep < m->arena_size && munmap(m->arena + keep, m->arena_size - keep) == 0)
        m->arena_size = keep;
}

void lm__populate(void *p, size_t len) {
#ifdef MADV_POPULATE_WRITE
    if (!len) return;
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = (uintptr_t)p & ~(page - 1), hi = ((uintptr_t)p + len + page - 1) & ~(page - 1);
    (void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE); /* a hint: failure is harmless */
#else
    (void)p, (void)len;
#endif
}

void lm_interp_warm_heap(size_t bytes) {
#if !NO_ARENA
    /* Keep what is freed (the default trims the heap's top above 128 KiB),
     * and take this one block from the heap, not from a mapping of its own. */
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
    mallopt(M_MMAP_THRESHOLD, (int)bytes + (1 << 20));
    void *p = malloc(bytes);
    if (p) lm__populate(p, bytes);
    free(p);
    mallopt(M_MMAP_THRESHOLD, 128 << 10); /* glibc's default */
#else
    (void)bytes;
#endif
}
