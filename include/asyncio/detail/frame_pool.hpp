// Coroutine frame allocation: per-thread free lists by 16-byte size class.
//
// Every task is one coroutine frame, so spawning a task costs one frame allocation. glibc's
// malloc returns freed frames to the kernel in bursts (heap trimming) and faults them back in;
// these free lists keep them. Fast path: pop or push one list head, no lock, no system call.
// Frames over 512 bytes go to the global allocator. A frame freed on another thread joins that
// thread's lists; at thread exit (after its loop and every thread_local are destroyed) its
// lists and the rest of its slab go to a shared pool that refills other threads.
//
// With ASYNCIO_SYSTEM_FRAME_ALLOCATOR (set for sanitizer builds, so ASan sees every frame),
// frames come straight from ::operator new.
#pragma once

#include <cstddef>
#include <new>

#include "asyncio/export.hpp"

namespace asyncio::detail {

/// Large scratch arrays that live while a task waits (gather's node per child): from
/// kLargeMapped bytes on, mapped on 2 MiB boundaries and advised for huge pages, so that first
/// touching them costs one page fault per 2 MiB (frame_pool.cpp); below, the global allocator.
/// Sanitizer builds always use the global allocator. Throws std::bad_alloc.
ASYNCIO_API void* allocate_large(std::size_t n);
/// Frees what allocate_large(n) returned, with the same `n`.
ASYNCIO_API void free_large(void* p, std::size_t n) noexcept;
inline constexpr std::size_t kLargeMapped = 1024 * 1024;

#ifdef ASYNCIO_SYSTEM_FRAME_ALLOCATOR

inline void* allocate_frame(std::size_t n) { return ::operator new(n); }
inline void free_frame(void* p, std::size_t) noexcept { ::operator delete(p); }

#else

struct FrameLists {
    static constexpr std::size_t kGranule = 16;
    static constexpr std::size_t kClasses = 32;  // frames up to 512 bytes
    void* head[kClasses];
};

ASYNCIO_API inline thread_local constinit FrameLists tls_frame_lists{};

/// Slow path: refills size class `cls` (blocks of (cls + 1) * 16 bytes) and returns one block.
ASYNCIO_API void* refill_frames(std::size_t cls);

/// Bytes of slab memory the pool has taken from the system so far (all threads): it grows
/// with the peak number of live frames, not with the number of threads that came and went.
ASYNCIO_API std::size_t frame_pool_slab_bytes() noexcept;

inline void* allocate_frame(std::size_t n) {
    std::size_t cls = (n - 1) / FrameLists::kGranule;
    if (cls >= FrameLists::kClasses) return ::operator new(n);
    void*& head = tls_frame_lists.head[cls];
    if (void* p = head) {
        head = *static_cast<void**>(p);
        return p;
    }
    return refill_frames(cls);
}

inline void free_frame(void* p, std::size_t n) noexcept {
    std::size_t cls = (n - 1) / FrameLists::kGranule;
    if (cls >= FrameLists::kClasses) {
        ::operator delete(p);
        return;
    }
    void*& head = tls_frame_lists.head[cls];
    *static_cast<void**>(p) = head;
    head = p;
}

#endif

}  // namespace asyncio::detail
