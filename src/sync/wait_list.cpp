// WaitList: the cold path (the owner destroyed with waiters).
#include "asyncio/detail/wait_list.hpp"

namespace asyncio::detail {

void WaitList::abandon_all() noexcept {
    Scheduler* s = tls_scheduler;
    auto abandon = [&](NodeList& list) {
        while (WaitNode* n = list.front()) {
            list.remove(n);
            TaskBase* t = n->task;
            if (t->state == TaskState::Waiting && t->wait_target == &tasks_) {
                tasks_.remove(t);
                t->flags |= TaskBase::kCancelPending;
                s->push_ready(t);
            } else if (!t->done()) {
                // Woken (runnable) or cancelled already: it raises at its co_await.
                t->flags |= TaskBase::kCancelPending;
            }
            n->state = WaitNode::State::Abandoned;
        }
    };
    abandon(parked_);
    abandon(in_flight_);
    woken_ = 0;
}

}  // namespace asyncio::detail
