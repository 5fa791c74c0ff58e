// The slow path of the frame pool: carving slabs, and handing an exiting thread's free
// blocks to a shared pool. Slabs are never returned to the system (their blocks may be in use
// on any thread); the memory stays available to every thread through the pool.
//
// Slab sizes: 64 KiB from the global allocator until a thread has taken kHugeAfter bytes of
// slabs (thousands of live frames); then 2 MiB slabs mapped on a 2 MiB boundary and marked
// MADV_HUGEPAGE, so that the kernel can back each with one huge page: one page fault per
// 2 MiB instead of 512, and fewer TLB misses when tasks are spread over megabytes. First
// touches are what a burst of tasks pays for (bench W9: 100,000 live tasks, 25 MB of fresh
// frames); on virtual machines where a 4 KiB fault costs tens of microseconds they were nearly
// all of it. Threads with few tasks never reach the threshold and keep 64 KiB granularity (a
// huge page is resident as a whole once touched).
//
// Carving needs no lock: the shared pool is consulted only while it has something (an exited
// thread gave it blocks or a slab tail), which the `has_spare` hint says without locking.
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
#include <sys/mman.h>

#include <cstdint>

#include <atomic>
#include <mutex>
#include <vector>

namespace asyncio::detail {

namespace {

constexpr std::size_t kHugePage = 2 * 1024 * 1024;  // x86-64's and arm64's huge page

// `bytes` (a multiple of kHugePage) mapped on a kHugePage boundary and advised for huge pages;
// null if the mapping fails.
char* map_huge(std::size_t bytes) noexcept {
    void* m = ::mmap(nullptr, bytes + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    auto base = reinterpret_cast<std::uintptr_t>(m);
    std::uintptr_t aligned = (base + kHugePage - 1) & ~(std::uintptr_t{kHugePage} - 1);
    // Give back the unaligned head and tail of the mapping (both multiples of the page size).
    if (aligned > base) ::munmap(m, aligned - base);
    std::uintptr_t end = base + bytes + kHugePage;
    if (end > aligned + bytes) ::munmap(reinterpret_cast<void*>(aligned + bytes), end - aligned - bytes);
    auto* p = reinterpret_cast<char*>(aligned);
    ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint: without THP, plain pages
    return p;
}

constexpr std::size_t kSlabBytes = 64 * 1024;
constexpr std::size_t kHugeSlabBytes = kHugePage;
constexpr std::size_t kHugeAfter = 1024 * 1024;  // 16 small slabs: thousands of live frames

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
    // True while head[] or tails may hold something (written under `mutex`; read without it
    // as a hint: a stale false only means a new thread carves fresh memory a little longer).
    std::atomic<bool> has_spare{false};

    // Under `mutex`.
    void update_spare() noexcept {
        bool any = !tails.empty();
        for (std::size_t c = 0; c < FrameLists::kClasses && !any; ++c) any = head[c] != nullptr;
        has_spare.store(any, std::memory_order_relaxed);
    }
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
thread_local constinit std::size_t tls_slab_bytes = 0;  // slab memory this thread has taken

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
    pool.update_spare();
    // Should another key destructor allocate a frame after this, it registers again and glibc
    // calls this once more.
    tls_exit_registered = false;
}

// A 2 MiB slab on a 2 MiB boundary, advised for a huge page; null if the mapping fails.
char* map_huge_slab() noexcept { return map_huge(kHugeSlabBytes); }

void new_slab(SharedPool& pool) {
    std::size_t bytes = kHugeSlabBytes;
    char* slab = tls_slab_bytes >= kHugeAfter ? map_huge_slab() : nullptr;
    if (slab == nullptr) {
        bytes = kSlabBytes;
        slab = static_cast<char*>(::operator new(kSlabBytes));
    }
    tls_slab_next = slab;
    tls_slab_end = slab + bytes;
    tls_slab_bytes += bytes;
    pool.slab_bytes.fetch_add(bytes, std::memory_order_relaxed);
}

}  // namespace

void* refill_frames(std::size_t cls) {
    const std::size_t size = (cls + 1) * FrameLists::kGranule;
    SharedPool& pool = shared_pool();
    if (!tls_exit_registered) {
        tls_exit_registered = true;
        pthread_setspecific(pool.exit_key, &tls_exit_registered);  // any non-null value
    }
    auto slab_too_small = [&] {
        return tls_slab_next == nullptr || static_cast<std::size_t>(tls_slab_end - tls_slab_next) < size;
    };
    if (pool.has_spare.load(std::memory_order_relaxed)) {
        std::lock_guard<std::mutex> lock(pool.mutex);
        if (void* p = pool.head[cls]) {  // take the whole list: later allocations are local
            tls_frame_lists.head[cls] = *static_cast<void**>(p);
            pool.head[cls] = nullptr;
            pool.update_spare();
            return p;
        }
        if (slab_too_small()) {
            // The rest of an exited thread's slab, if one is large enough, before a new slab.
            for (std::size_t i = pool.tails.size(); i-- > 0;) {
                if (static_cast<std::size_t>(pool.tails[i].end - pool.tails[i].next) >= size) {
                    tls_slab_next = pool.tails[i].next;
                    tls_slab_end = pool.tails[i].end;
                    pool.tails[i] = pool.tails.back();
                    pool.tails.pop_back();
                    pool.update_spare();
                    break;
                }
            }
        }
    }
    if (slab_too_small()) new_slab(pool);
    void* p = tls_slab_next;
    tls_slab_next += size;
    return p;
}

std::size_t frame_pool_slab_bytes() noexcept {
    return shared_pool().slab_bytes.load(std::memory_order_relaxed);
}

void* allocate_large(std::size_t n) {
    if (n < kLargeMapped) return ::operator new(n);
    std::size_t bytes = (n + kHugePage - 1) & ~(kHugePage - 1);
    if (char* p = map_huge(bytes)) return p;
    throw std::bad_alloc();
}

void free_large(void* p, std::size_t n) noexcept {
    if (n < kLargeMapped) {
        ::operator delete(p);
        return;
    }
    ::munmap(p, (n + kHugePage - 1) & ~(kHugePage - 1));
}

void frame_pool_lock_for_fork() noexcept { shared_pool().mutex.lock(); }
void frame_pool_unlock_after_fork() noexcept { shared_pool().mutex.unlock(); }

}  // namespace asyncio::detail

#else

namespace asyncio::detail {

void* allocate_large(std::size_t n) { return ::operator new(n); }
void free_large(void* p, std::size_t) noexcept { ::operator delete(p); }

void frame_pool_lock_for_fork() noexcept {}
void frame_pool_unlock_after_fork() noexcept {}

}  // namespace asyncio::detail

#endif
