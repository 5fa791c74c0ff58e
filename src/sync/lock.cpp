// Lock: hand-off, cancellation of a waiter that was handed the lock, misuse errors.
// SEMANTICS.md 8.3: states unlocked / locked / reserved-for-a-waiter; no barging.
#include "asyncio/lock.hpp"

#include "asyncio/errors.hpp"
#include "sync/abandon.hpp"

namespace asyncio {

Lock::~Lock() {
    // Awaiters resume after this object is gone: detach them first, then wake the queued ones.
    for (AcquireAwaiter* a = suspended_; a != nullptr; a = std::exchange(a->next_, nullptr)) {
        a->lock_ = nullptr;
        a->prev_ = nullptr;
    }
    detail::abandon_waiters(waiters_);
}

void Lock::AcquireAwaiter::finish() {
    detail::TaskBase* self = std::exchange(self_, nullptr);
    if (lock_ == nullptr) {
        // The Lock died while this task waited: it was woken cancelled (or had been handed a
        // lock that no longer exists). Either way it does not hold anything.
        detail::raise_cancelled(self);
    }
    lock_->untrack(this);
    lock_->finish_wait(self);
}

void Lock::release() {
    if (state_ != State::Locked) throw RuntimeError("Lock not acquired");
    hand_off();
}

void Lock::hand_off() noexcept {
    if (detail::TaskBase* next = waiters_.pop_front()) {
        state_ = State::Reserved;
        reserved_for_ = next;
        detail::tls_scheduler->push_ready(next);
    } else {
        state_ = State::Unlocked;
        reserved_for_ = nullptr;
    }
}

void Lock::finish_wait(detail::TaskBase* self) {
    bool handed = state_ == State::Reserved && reserved_for_ == self;
    if (self->has(detail::TaskBase::kCancelPending)) {
        // Cancelled while queued (cancel() already unlinked it) or after the hand-off: in the
        // second case pass the lock on before raising (SEMANTICS.md 8.3).
        if (handed) hand_off();
        detail::raise_cancelled(self);
    }
    state_ = State::Locked;
    reserved_for_ = nullptr;
}

void Lock::abandon(detail::TaskBase* self) noexcept {
    if (state_ == State::Reserved && reserved_for_ == self) {
        hand_off();
    } else if (self->state == detail::TaskState::Waiting && self->wait_target == &waiters_) {
        waiters_.remove(self);
    }
}

LockGuard::~LockGuard() {
    if (lock_ != nullptr && lock_->state_ == Lock::State::Locked) lock_->hand_off();
}

}  // namespace asyncio
