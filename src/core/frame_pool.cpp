// The slow path of the frame pool: carving 64 KiB slabs, and handing an exiting thread's free
// blocks to a shared pool. Slabs are never returned to the system (their blocks may be in use
// on any thread); the memory stays available to every thread through the pool.
//
// Thread exit: the first allocation on a thread (always a refill: its lists start empty)
// registers a pthread key destructor. glibc runs key destructors after every C++ thread_local
// destructor, so frames freed while the thread's loop is torn down (tasks still pending when
// the thread ends) are already back on this thread's lists when they move to the shared pool.
// The unused tail of the thread's current slab goes to the pool too.
#include "asyncio/detail/frame_pool.hpp"

#include "core/fork.hpp"

#ifndef ASYNCIO_SYSTEM_FRAME_ALLOCATOR

#include <pthread.h>

#include <atomic>
#include <mutex>
#include <vector>

namespace asyncio::detail {

namespace {

constexpr std::size_t kSlabBytes = 64 * 1024;

struct SlabTail {
    char* next;
    char* end;
};

struct SharedPool {
    std::mutex mutex;
    void* head[FrameLists::kClasses] = {};
    std::vector<SlabTail> tails;  // unused ends of the slabs of threads that exited
    pthread_key_t exit_key{};
    std::atomic<std::size_t> slab_bytes{0};
};

void on_thread_exit(void*) noexcept;

SharedPool& shared_pool() {
    // Never destroyed: threads may exit after main.
    static SharedPool* pool = [] {
        auto* p = new SharedPool;
        pthread_key_create(&p->exit_key, &on_thread_exit);
        return p;
    }();
    return *pool;
}

// Plain TLS (no destructor of its own): the key destructor above does the cleanup.
thread_local constinit char* tls_slab_next = nullptr;
thread_local constinit char* tls_slab_end = nullptr;
thread_local constinit bool tls_exit_registered = false;

void on_thread_exit(void*) noexcept {
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
    if (tls_slab_next != nullptr && tls_slab_end - tls_slab_next >= static_cast<std::ptrdiff_t>(FrameLists::kGranule)) {
        try {
            pool.tails.push_back({tls_slab_next, tls_slab_end});
        } catch (...) {  // out of memory: the tail is lost, nothing else
        }
    }
    tls_slab_next = tls_slab_end = nullptr;
    // Should another key destructor allocate a frame after this, it registers again and glibc
    // calls this once more.
    tls_exit_registered = false;
}

}  // namespace

void* refill_frames(std::size_t cls) {
    const std::size_t size = (cls + 1) * FrameLists::kGranule;
    SharedPool& pool = shared_pool();
    if (!tls_exit_registered) {
        tls_exit_registered = true;
        pthread_setspecific(pool.exit_key, &tls_exit_registered);  // any non-null value
    }
    {
        std::lock_guard<std::mutex> lock(pool.mutex);
        if (void* p = pool.head[cls]) {  // take the whole list: later allocations are local
            tls_frame_lists.head[cls] = *static_cast<void**>(p);
            pool.head[cls] = nullptr;
            return p;
        }
        if (tls_slab_next == nullptr || static_cast<std::size_t>(tls_slab_end - tls_slab_next) < size) {
            // The rest of an exited thread's slab, if one is large enough, before a new slab.
            for (std::size_t i = pool.tails.size(); i-- > 0;) {
                if (static_cast<std::size_t>(pool.tails[i].end - pool.tails[i].next) >= size) {
                    tls_slab_next = pool.tails[i].next;
                    tls_slab_end = pool.tails[i].end;
                    pool.tails[i] = pool.tails.back();
                    pool.tails.pop_back();
                    break;
                }
            }
        }
    }
    if (tls_slab_next == nullptr || static_cast<std::size_t>(tls_slab_end - tls_slab_next) < size) {
        tls_slab_next = static_cast<char*>(::operator new(kSlabBytes));
        tls_slab_end = tls_slab_next + kSlabBytes;
        pool.slab_bytes.fetch_add(kSlabBytes, std::memory_order_relaxed);
    }
    void* p = tls_slab_next;
    tls_slab_next += size;
    return p;
}

std::size_t frame_pool_slab_bytes() noexcept {
    return shared_pool().slab_bytes.load(std::memory_order_relaxed);
}

void frame_pool_lock_for_fork() noexcept { shared_pool().mutex.lock(); }
void frame_pool_unlock_after_fork() noexcept { shared_pool().mutex.unlock(); }

}  // namespace asyncio::detail

#else

namespace asyncio::detail {

void frame_pool_lock_for_fork() noexcept {}
void frame_pool_unlock_after_fork() noexcept {}

}  // namespace asyncio::detail

#endif
