// The coroutine frame pool (Release and dev builds; sanitizer builds bypass it, so there is
// nothing to test there): memory a thread used comes back when the thread ends.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#ifndef ASYNCIO_SYSTEM_FRAME_ALLOCATOR

using namespace asyncio;

namespace {

Coro<int> step(int i) {
    co_await sleep(0);
    co_return i;
}

Coro<> forever() { co_await sleep(3600); }

// One short-lived thread: thousands of tasks, and some left pending, so that their frames are
// freed only when the thread's loop is destroyed at thread exit.
Coro<> thread_main() {
    std::vector<Task<int>> tasks;
    for (int i = 0; i < 2000; ++i) tasks.push_back(create_task(step(i)));
    std::vector<int> values = co_await gather(std::move(tasks));
    EXPECT_EQ(values.size(), 2000u);
    for (int i = 0; i < 300; ++i) create_task(forever());
    co_await sleep(0);
}

void run_threads(int n) {
    for (int i = 0; i < n; ++i) std::thread([] { run(thread_main()); }).join();
}

}  // namespace

// Issue 10 point 13: a thread whose frames all came from the shared pool never gave them
// back, and frames freed while its loop was destroyed at thread exit were lost too (+174 KB
// and ~350 KB per thread).
TEST(FramePoolTest, Issue10_ShortLivedThreadsRunningThousandsOfTasksDoNotGrowThePool) {
    run_threads(4);  // warm-up: the pool reaches the size one thread needs
    std::size_t before = detail::frame_pool_slab_bytes();
    run_threads(60);
    std::size_t after = detail::frame_pool_slab_bytes();
    // A leak of one thread's frames alone would be several 64 KiB slabs per thread.
    EXPECT_LE(after - before, 4u * 64 * 1024) << "before " << before << " after " << after;
}

// gather's per-child nodes for tens of thousands of children come from allocate_large: from
// kLargeMapped bytes on, whole 2 MiB-aligned huge-page candidates, writable to the last byte.
TEST(FramePoolTest, LargeArraysAreMappedOnHugePageBoundaries) {
    constexpr std::size_t kHuge = 2 * 1024 * 1024;
    for (std::size_t n : {detail::kLargeMapped, 3 * kHuge + 5}) {
        auto* p = static_cast<char*>(detail::allocate_large(n));
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kHuge, 0u) << n;
        std::memset(p, 0x5a, n);
        EXPECT_EQ(p[n - 1], 0x5a);
        detail::free_large(p, n);
    }
    void* small = detail::allocate_large(100);  // below the threshold: the global allocator
    ASSERT_NE(small, nullptr);
    detail::free_large(small, 100);
}

#endif
