// Condition: wait = release, park until notified, re-acquire (even when cancelled).
#include "asyncio/condition.hpp"

#include <limits>

#include "asyncio/errors.hpp"

namespace asyncio {

namespace {
constexpr std::uint8_t kNotified = 1;
}  // namespace

/// Parks in the condition's waiter list until notified. Does not throw: it tells wait() what
/// happened, so that wait() can take the lock again before letting a cancel out.
class Condition::NotifyAwaiter {
public:
    enum class Outcome : std::uint8_t { Notified, Cancelled, Abandoned };

    explicit NotifyAwaiter(Condition& c) noexcept : cond_(&c) {}
    NotifyAwaiter(const NotifyAwaiter&) = delete;
    NotifyAwaiter& operator=(const NotifyAwaiter&) = delete;
    ~NotifyAwaiter() {
        if (node_.linked()) leave_passing_on();
    }

    bool await_ready() const noexcept { return false; }
    void await_suspend(std::coroutine_handle<> h) noexcept { cond_->waiters_.park(node_, h); }
    Outcome await_resume() noexcept {
        if (node_.state == detail::WaitNode::State::Abandoned) {
            node_.state = detail::WaitNode::State::Idle;
            return Outcome::Abandoned;
        }
        detail::TaskBase* self = detail::tls_scheduler->current;
        if (self->has(detail::TaskBase::kCancelPending)) {
            leave_passing_on();
            // Held back until the lock is ours again; wait() raises it then.
            self->flags &= static_cast<std::uint8_t>(~detail::TaskBase::kCancelPending);
            return Outcome::Cancelled;
        }
        cond_->waiters_.leave(node_);
        return Outcome::Notified;
    }

private:
    // A notification that reached a waiter which will not act on it goes to the next one.
    void leave_passing_on() noexcept {
        bool notified = node_.state == detail::WaitNode::State::Woken;
        cond_->waiters_.leave(node_);
        if (notified) cond_->wake(1);
    }

    Condition* cond_;
    detail::WaitNode node_;
};

Condition::~Condition() { waiters_.abandon_all(); }

Coro<bool> Condition::wait() {
    if (!lock_->locked()) throw RuntimeError("cannot wait on un-acquired lock");
    Lock* lock = lock_;
    lock->release();
    NotifyAwaiter::Outcome outcome = co_await NotifyAwaiter(*this);
    // The condition is gone (its destructor marked us cancelled): nothing left to wait on.
    if (outcome == NotifyAwaiter::Outcome::Abandoned) detail::raise_cancelled(detail::tls_scheduler->current);
    bool cancelled = outcome == NotifyAwaiter::Outcome::Cancelled;
    // Take the lock again whatever happens; a cancel meanwhile is remembered, not lost.
    for (;;) {
        try {
            co_await lock->acquire();
            break;
        } catch (const CancelledError&) {
            cancelled = true;
        }
    }
    if (cancelled) throw CancelledError{};
    co_return true;
}

void Condition::notify(std::size_t n) {
    if (!lock_->locked()) throw RuntimeError("cannot notify on un-acquired lock");
    wake(n);
}

void Condition::notify_all() { notify(std::numeric_limits<std::size_t>::max()); }

void Condition::wake(std::size_t n) noexcept {
    for (std::size_t i = 0; i < n && waiters_.wake_one(kNotified); ++i) {
    }
}

}  // namespace asyncio
