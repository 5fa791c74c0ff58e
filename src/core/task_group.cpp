// TaskGroup: CPython's TaskGroup (Lib/asyncio/taskgroups.py) on the core's task waiters.
//
// Each child has a GroupChild node, linked both on the child's waiter list (its completion
// notifies the group) and on the group's list of unfinished children (abort() cancels them).
// Nodes come from the frame pool. The parent, in finish(), parks in `parked_` until the list
// is empty. Invariant: a node is on the group's list exactly while its task is unfinished;
// a loop teardown clears every waiter list first, so ~TaskGroup only frees nodes.
#include <new>

#include "asyncio/detail/cancel_scope.hpp"
#include "asyncio/detail/frame_pool.hpp"
#include "asyncio/loop.hpp"
#include "asyncio/task_group.hpp"

namespace asyncio {

using detail::GroupChild;
using detail::TaskBase;

TaskGroup::TaskGroup() : parent_(nullptr) {
    if (detail::tls_scheduler == nullptr) detail::raise_no_running_loop();
    parent_ = detail::tls_scheduler->running_task();
}

TaskGroup::~TaskGroup() {
    while (GroupChild* c = children_) {
        children_ = c->next;
        free_child(c);
    }
}

void TaskGroup::check_accepting() const {
    if (exiting_ && children_ == nullptr) throw RuntimeError("TaskGroup is finished");
    if (aborting_) throw RuntimeError("TaskGroup is shutting down");
}

GroupChild* TaskGroup::new_child() {
    return new (detail::allocate_frame(sizeof(GroupChild))) GroupChild(this, nullptr);
}

void TaskGroup::free_child(GroupChild* node) noexcept {
    node->~GroupChild();
    detail::free_frame(node, sizeof(GroupChild));
}

void TaskGroup::adopt(GroupChild& node, TaskBase& child) noexcept {
    node.task = &child;
    node.prev = children_tail_;
    (children_tail_ != nullptr ? children_tail_->next : children_) = &node;
    children_tail_ = &node;
    node.link(child, parent_);
}

void detail::GroupChild::on_done(TaskWaiter& w) noexcept {
    auto& node = static_cast<GroupChild&>(w);
    node.group->on_child_done(node);
}

void TaskGroup::on_child_done(GroupChild& node) noexcept {
    TaskBase* task = node.task;
    (node.prev != nullptr ? node.prev->next : children_) = node.next;
    (node.next != nullptr ? node.next->prev : children_tail_) = node.prev;
    free_child(&node);
    if (children_ == nullptr) detail::tls_scheduler->wake_all(parked_);

    if (task->has(TaskBase::kCancelled) || !task->exception) return;
    errors_.push_back(task->exception);
    if (!aborting_ && !parent_cancel_requested_) {
        // Abort what the body is doing now; finish() takes this cancel back (uncancel), so
        // that the caller sees the ExceptionGroup, not a CancelledError.
        abort();
        parent_cancel_requested_ = true;
        if (parent_ == detail::tls_scheduler->current) {
            detail::cancel_running(*parent_);
        } else {
            try {
                detail::cancel_task(*parent_);
            } catch (const RuntimeError&) {
                detail::cancel_running(*parent_);  // the parent awaits the running task
            }
        }
    }
}

void TaskGroup::abort() noexcept {
    aborting_ = true;
    for (GroupChild* c = children_; c != nullptr; c = c->next) {
        try {
            detail::cancel_task(*c->task);
        } catch (const RuntimeError&) {
            // The child is the running task, or awaits it: it ends on its own.
        }
    }
}

Coro<> TaskGroup::finish(std::exception_ptr body_error, bool body_cancelled) {
    exiting_ = true;
    bool propagate_cancel = body_cancelled;
    if ((body_error || body_cancelled) && !aborting_) abort();
    while (children_ != nullptr) {
        bool cancelled = false;
        try {
            co_await detail::WaitOn{parked_};
        } catch (const CancelledError&) {
            cancelled = true;
        }
        if (cancelled && !aborting_) {
            // Cancelled from outside while waiting for the children: cancel them, keep waiting.
            propagate_cancel = true;
            abort();
        }
    }
    if (parent_cancel_requested_ && detail::uncancel(*parent_) == 0) propagate_cancel = false;
    if (propagate_cancel && errors_.empty()) throw CancelledError{};
    if (body_error) errors_.push_back(std::move(body_error));
    if (!errors_.empty()) {
        // A cancel from outside is still pending: deliver it at the parent's next co_await.
        if (detail::cancelling(*parent_) > 0) parent_->flags |= TaskBase::kCancelPending;
        throw ExceptionGroup("unhandled errors in a TaskGroup", std::move(errors_));
    }
}

}  // namespace asyncio
