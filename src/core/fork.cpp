// The loop registry and the pthread_atfork handlers: see fork.hpp.
#include "core/fork.hpp"

#include <pthread.h>

#include <algorithm>
#include <mutex>
#include <vector>

#include "asyncio/errors.hpp"
#include "core/loop_impl.hpp"
#include "proc/signals.hpp"

namespace asyncio::detail {

namespace {

struct Registry {
    std::mutex mutex;
    std::vector<Loop*> loops;
};

Registry& registry() {
    static Registry* r = new Registry;  // never destroyed: threads may exit after main
    return *r;
}

// Taken in a fixed order before fork(), released in reverse in both processes afterwards.
void before_fork() noexcept {
    registry().mutex.lock();
    signals_lock_for_fork();
    frame_pool_lock_for_fork();
}

void after_fork_in_parent() noexcept {
    frame_pool_unlock_after_fork();
    signals_unlock_after_fork();
    registry().mutex.unlock();
}

void after_fork_in_child() noexcept {
    // Only the forking thread exists here, and it holds every lock: nothing can race.
    for (Loop* loop : registry().loops) LoopInternals::abandon_after_fork(*loop);
    registry().loops.clear();  // abandoned loops are never destroyed, so never unregistered
    LoopInternals::forget_thread_loop_after_fork();
    signals_reset_in_child();
    frame_pool_unlock_after_fork();
    signals_unlock_after_fork();
    registry().mutex.unlock();
}

}  // namespace

void register_loop(Loop* loop) {
    static const bool installed = [] {
        ::pthread_atfork(before_fork, after_fork_in_parent, after_fork_in_child);
        return true;
    }();
    (void)installed;
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    r.loops.push_back(loop);
}

void unregister_loop(Loop* loop) noexcept {
    Registry& r = registry();
    std::lock_guard lock(r.mutex);
    auto it = std::find(r.loops.begin(), r.loops.end(), loop);
    if (it != r.loops.end()) r.loops.erase(it);
}

void raise_inherited_loop() {
    throw RuntimeError(
        "this event loop was inherited across fork(): the child process cannot use it (its tasks, "
        "fds and threads belong to the parent); the child's own loop comes from "
        "asyncio::run() / get_event_loop()");
}

}  // namespace asyncio::detail
