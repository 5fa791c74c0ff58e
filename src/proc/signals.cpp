// Unix signal handlers for the loop: the process-wide table the sigaction handler reads, and
// each loop's SignalHandlers (see signals.hpp).
//
// Async-signal safety: on_signal() touches only lock-free atomics and ThreadWakeups::notify()
// (an atomic exchange plus at most one eventfd write()), and preserves errno.
//
// Removal race: a handler running on another thread may have loaded a loop's ThreadWakeups*
// just before that loop drops the signal. `in_handler` counts handlers in progress; removal
// clears the owner first, then waits for the count to reach zero, so the ThreadWakeups it
// frees afterwards is no longer in use. The wait is a few instructions long in practice.
#include "proc/signals.hpp"

#include <sched.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

#include "asyncio/errors.hpp"
#include "asyncio/loop.hpp"
#include "core/system_error.hpp"
#include "core/thread_wakeups.hpp"

namespace asyncio::detail {

namespace {

static_assert(std::atomic<ThreadWakeups*>::is_always_lock_free);
static_assert(std::atomic<bool>::is_always_lock_free);
static_assert(std::atomic<int>::is_always_lock_free);

std::atomic<ThreadWakeups*> owner[NSIG];  // the loop each signal wakes, or null
std::atomic<bool> pending[NSIG];           // arrived and not yet dispatched
std::atomic<int> in_handler{0};
std::mutex registry_mutex;                 // add/remove from several loops' threads

extern "C" void on_signal(int sig) {
    int saved_errno = errno;
    in_handler.fetch_add(1, std::memory_order_seq_cst);
    if (ThreadWakeups* w = owner[sig].load(std::memory_order_seq_cst)) {
        pending[sig].store(true, std::memory_order_seq_cst);
        w->notify();
    }
    in_handler.fetch_sub(1, std::memory_order_seq_cst);
    errno = saved_errno;
}

void check_signal_number(int sig) {
    if (sig < 1 || sig >= NSIG) {
        throw std::invalid_argument("sig " + std::to_string(sig) + " out of range(1, " + std::to_string(NSIG) + ")");
    }
}

[[noreturn]] void cannot_catch(int sig) {
    throw RuntimeError("sig " + std::to_string(sig) + " cannot be caught");
}

void restore_default(int sig) noexcept {
    struct sigaction sa {};
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
}

void wait_for_handlers() noexcept {
    while (in_handler.load(std::memory_order_seq_cst) != 0) ::sched_yield();
}

}  // namespace

void signals_lock_for_fork() noexcept { registry_mutex.lock(); }
void signals_unlock_after_fork() noexcept { registry_mutex.unlock(); }

void signals_reset_in_child() noexcept {
    for (int sig = 1; sig < NSIG; ++sig) {
        if (owner[sig].load(std::memory_order_relaxed) == nullptr) continue;
        restore_default(sig);
        owner[sig].store(nullptr, std::memory_order_relaxed);
        pending[sig].store(false, std::memory_order_relaxed);
    }
    in_handler.store(0, std::memory_order_relaxed);  // a handler cut off on a thread that is gone
}

void SignalHandlers::add(int sig, std::function<void()> f) {
    check_signal_number(sig);
    if (sig == SIGKILL || sig == SIGSTOP) cannot_catch(sig);
    if (!f) throw std::invalid_argument("add_signal_handler: the handler is empty");
    auto handler = std::make_shared<std::function<void()>>(std::move(f));
    std::lock_guard lock(registry_mutex);
    ThreadWakeups* current = owner[sig].load(std::memory_order_relaxed);
    if (current != nullptr && current != &wakeups_) {
        throw RuntimeError("sig " + std::to_string(sig) + " is handled by another event loop");
    }
    if (current == nullptr) {
        // Owner first, so that a signal arriving the moment the handler is installed finds it.
        owner[sig].store(&wakeups_, std::memory_order_seq_cst);
        struct sigaction sa {};
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        // SA_RESTART: other threads' blocking calls are not cut short by our signal.
        sa.sa_flags = SA_RESTART | SA_ONSTACK;
        if (::sigaction(sig, &sa, nullptr) != 0) {
            int err = errno;
            owner[sig].store(nullptr, std::memory_order_seq_cst);
            if (err == EINVAL) cannot_catch(sig);  // e.g. glibc's reserved SIGCANCEL/SIGSETXID
            throw_system_error(err, "sigaction(" + std::to_string(sig) + ")");
        }
    }
    handlers_[sig] = std::move(handler);
}

bool SignalHandlers::remove(int sig) {
    check_signal_number(sig);
    auto it = handlers_.find(sig);
    if (it == handlers_.end()) return false;
    handlers_.erase(it);
    std::lock_guard lock(registry_mutex);
    restore_default(sig);
    owner[sig].store(nullptr, std::memory_order_seq_cst);
    pending[sig].store(false, std::memory_order_relaxed);
    wait_for_handlers();
    return true;
}

void SignalHandlers::remove_all() noexcept {
    if (handlers_.empty()) return;
    std::lock_guard lock(registry_mutex);
    for (auto& [sig, handler] : handlers_) {
        restore_default(sig);
        owner[sig].store(nullptr, std::memory_order_seq_cst);
        pending[sig].store(false, std::memory_order_relaxed);
    }
    handlers_.clear();
    wait_for_handlers();
}

void SignalHandlers::dispatch(Loop& loop) {
    for (auto& [sig, handler] : handlers_) {
        if (!pending[sig].load(std::memory_order_relaxed)) continue;
        if (!pending[sig].exchange(false, std::memory_order_acq_rel)) continue;
        // The handler runs as an ordinary callback; holding the shared function keeps it
        // alive if remove_signal_handler() runs before it does.
        loop.call_soon([h = handler] { (*h)(); });
    }
}

}  // namespace asyncio::detail
