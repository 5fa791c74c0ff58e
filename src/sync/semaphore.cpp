// Semaphore: hand-off to the oldest waiter, cancellation after a hand-off, misuse errors.
// value_ counts free permits that nobody has been promised: a release() with waiters moves
// its permit straight to the oldest one (value_ is incremented, then decremented again), so
// a newcomer sees locked() and queues behind (CPython >= 3.11.1).
#include "asyncio/semaphore.hpp"

#include <stdexcept>

namespace asyncio {

namespace {

std::int64_t checked_value(std::int64_t value) {
    if (value < 0) throw std::invalid_argument("Semaphore initial value must be >= 0");
    return value;
}

}  // namespace

Semaphore::Semaphore(std::int64_t value) : value_(checked_value(value)), bound_(-1) {}

Semaphore::Semaphore(std::int64_t value, std::int64_t bound) : value_(checked_value(value)), bound_(bound) {}

Semaphore::~Semaphore() { waiters_.abandon_all(); }

BoundedSemaphore::BoundedSemaphore(std::int64_t value) : Semaphore(value, value) {}

void Semaphore::release() {
    if (bound_ >= 0 && value_ >= bound_) throw std::invalid_argument("BoundedSemaphore released too many times");
    give_back();
}

void Semaphore::give_back() noexcept {
    ++value_;
    if (waiters_.wake_one(kHandOff)) --value_;
}

void Semaphore::wake_while_free() noexcept {
    // Waiters that queued behind one that has now left may be servable.
    while (value_ > 0 && waiters_.wake_one(kHandOff)) --value_;
}

void Semaphore::finish_wait(detail::WaitNode& n) {
    bool handed = n.state == detail::WaitNode::State::Woken && n.tag == kHandOff;
    waiters_.leave(n);
    detail::TaskBase* self = detail::tls_scheduler->current;
    if (self->has(detail::TaskBase::kCancelPending)) {
        if (handed) ++value_;  // not taking it after all: the permit goes on
        wake_while_free();
        detail::raise_cancelled(self);
    }
    wake_while_free();
}

void Semaphore::leave(detail::WaitNode& n) noexcept {
    bool handed = n.state == detail::WaitNode::State::Woken && n.tag == kHandOff;
    waiters_.leave(n);
    if (handed) ++value_;
    wake_while_free();
}

SemaphoreGuard::~SemaphoreGuard() {
    if (sem_ != nullptr) sem_->give_back();
}

}  // namespace asyncio
