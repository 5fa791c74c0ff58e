// The slow path of the frame pool: carving 64 KiB slabs, and handing an exiting thread's free
// blocks to a shared pool. Slabs are never returned to the system (their blocks may be in use
// on any thread); the memory stays available to every thread through the pool.
#include "asyncio/detail/frame_pool.hpp"

#ifndef ASYNCIO_SYSTEM_FRAME_ALLOCATOR

#include <mutex>

namespace asyncio::detail {

namespace {

constexpr std::size_t kSlabBytes = 64 * 1024;

struct SharedPool {
    std::mutex mutex;
    void* head[FrameLists::kClasses] = {};
};

SharedPool& shared_pool() {
    static SharedPool* pool = new SharedPool;  // never destroyed: threads may exit after main
    return *pool;
}

struct ThreadSlab {
    char* next = nullptr;
    char* end = nullptr;
    // At thread exit, this thread's free blocks join the shared pool.
    ~ThreadSlab() {
        SharedPool& pool = shared_pool();
        std::lock_guard<std::mutex> lock(pool.mutex);
        for (std::size_t c = 0; c < FrameLists::kClasses; ++c) {
            void* p = tls_frame_lists.head[c];
            while (p != nullptr) {
                void* next = *static_cast<void**>(p);
                *static_cast<void**>(p) = pool.head[c];
                pool.head[c] = p;
                p = next;
            }
            tls_frame_lists.head[c] = nullptr;
        }
    }
};

thread_local ThreadSlab tls_slab;

}  // namespace

void* refill_frames(std::size_t cls) {
    const std::size_t size = (cls + 1) * FrameLists::kGranule;
    {
        SharedPool& pool = shared_pool();
        std::lock_guard<std::mutex> lock(pool.mutex);
        if (void* p = pool.head[cls]) {  // take the whole list: later allocations are local
            tls_frame_lists.head[cls] = *static_cast<void**>(p);
            pool.head[cls] = nullptr;
            return p;
        }
    }
    ThreadSlab& slab = tls_slab;
    if (slab.next == nullptr || static_cast<std::size_t>(slab.end - slab.next) < size) {
        slab.next = static_cast<char*>(::operator new(kSlabBytes));
        slab.end = slab.next + kSlabBytes;
    }
    void* p = slab.next;
    slab.next += size;
    return p;
}

}  // namespace asyncio::detail

#endif
