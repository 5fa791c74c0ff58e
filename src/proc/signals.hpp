// SignalHandlers: one loop's Unix signal handlers (Loop::add_signal_handler).
//
// CPython's set_wakeup_fd design: a real sigaction handler, which runs on whichever thread the
// kernel picks (threads the user started long before included), marks the signal pending in a
// process-wide table and wakes the loop that owns the signal through that loop's eventfd
// (ThreadWakeups::notify: atomics and at most one write(), both async-signal-safe). The loop
// sees the wake-up at the start of its next round and queues the handler as an ordinary
// callback. Each signal belongs to at most one loop of the process at a time.
//
// No fd of its own: the poller's wake-up eventfd is the wake-up fd.
#pragma once

#include <functional>
#include <map>
#include <memory>

namespace asyncio {
class Loop;
}

namespace asyncio::detail {

class ThreadWakeups;

// fork() (core/fork.hpp): the table's lock is held across fork(); in the child, every signal a
// loop handled gets its default disposition back and belongs to no loop.
void signals_lock_for_fork() noexcept;
void signals_unlock_after_fork() noexcept;
void signals_reset_in_child() noexcept;

class SignalHandlers {
public:
    explicit SignalHandlers(ThreadWakeups& wakeups) noexcept : wakeups_(wakeups) {}
    SignalHandlers(const SignalHandlers&) = delete;
    SignalHandlers& operator=(const SignalHandlers&) = delete;
    ~SignalHandlers() { remove_all(); }

    /// Loop thread. Throws as Loop::add_signal_handler documents.
    void add(int sig, std::function<void()> f);
    /// Loop thread; false if this loop has no handler for `sig`.
    bool remove(int sig);
    /// Loop thread: removes every handler, restoring SIG_DFL.
    void remove_all() noexcept;
    /// Loop thread, after a wake-up: queues the handler of each signal that arrived.
    void dispatch(Loop& loop);

    [[nodiscard]] bool empty() const noexcept { return handlers_.empty(); }

private:
    ThreadWakeups& wakeups_;
    std::map<int, std::shared_ptr<std::function<void()>>> handlers_;
};

}  // namespace asyncio::detail
