// gather_wait: one waiter node per gathered task, a counter, and a parking queue for the task
// awaiting the gather (SEMANTICS.md 7). The nodes belong to this coroutine (GatherNodes, an
// array from allocate_large) and unlink themselves when it ends, so tasks left running after a
// failure are no longer watched.
#include <cstddef>
#include <memory>

#include "asyncio/detail/frame_pool.hpp"
#include "asyncio/gather.hpp"
#include "asyncio/loop.hpp"

namespace asyncio::detail {

namespace {

struct GatherState;

struct GatherNode : TaskWaiter {
    GatherNode() noexcept : TaskWaiter(&on_done) {}
    static void on_done(TaskWaiter& w) noexcept;
    GatherState* state = nullptr;
    TaskBase* task = nullptr;
};

struct GatherState {
    std::size_t remaining = 0;
    bool return_exceptions = false;
    bool woken = false;
    std::exception_ptr error;
    WaitQueue parked;  // the task awaiting the gather

    void wake() noexcept {
        woken = true;
        tls_scheduler->wake_all(parked);
    }
};

void GatherNode::on_done(TaskWaiter& w) noexcept {
    auto& node = static_cast<GatherNode&>(w);
    GatherState& g = *node.state;
    if (g.woken) return;
    if (!g.return_exceptions && node.task->exception) {
        g.error = node.task->exception;  // the first failure in completion order
        g.wake();
    } else if (--g.remaining == 0) {
        g.wake();
    }
}

// The nodes, one per task. A gather of 100,000 tasks needs megabytes of them, all touched at
// once: allocate_large maps such arrays in huge pages (one page fault per 2 MiB).
class GatherNodes {
public:
    explicit GatherNodes(std::size_t n)
        : n_(n), nodes_(static_cast<GatherNode*>(allocate_large(n * sizeof(GatherNode)))) {
        std::uninitialized_default_construct_n(nodes_, n_);
    }
    GatherNodes(const GatherNodes&) = delete;
    GatherNodes& operator=(const GatherNodes&) = delete;
    ~GatherNodes() {
        std::destroy_n(nodes_, n_);
        free_large(nodes_, n_ * sizeof(GatherNode));
    }
    GatherNode& operator[](std::size_t i) noexcept { return nodes_[i]; }

private:
    std::size_t n_;
    GatherNode* nodes_;
};

}  // namespace

Coro<> gather_wait(GatherChildren tasks, bool return_exceptions) {
    if (!return_exceptions) {
        for (std::size_t i = 0; i < tasks.size; ++i) {  // already failed: the first in argument order
            TaskBase* t = tasks.at(tasks.items, i);
            if (t->done() && t->exception) {
                t->flags |= TaskBase::kAwaited;
                std::rethrow_exception(t->exception);
            }
        }
    }
    GatherState g;
    g.return_exceptions = return_exceptions;
    GatherNodes nodes(tasks.size);
    for (std::size_t i = 0; i < tasks.size; ++i) {
        TaskBase* t = tasks.at(tasks.items, i);
        if (t->done()) continue;
        nodes[i].state = &g;
        nodes[i].task = t;
        nodes[i].link(*t, tls_scheduler->current);
        ++g.remaining;
    }
    if (g.remaining == 0) co_return;
    try {
        co_await WaitOn{g.parked};
    } catch (const CancelledError&) {
        // Cancelling the gather cancels every task still running; it does not wait for them.
        // (The nodes name the tasks that were running when it started; `tasks` is not read
        // after the first suspension.)
        TaskBase* self = tls_scheduler->current;
        for (std::size_t i = 0; i < tasks.size; ++i) {
            TaskBase* t = nodes[i].task;
            if (t != nullptr && !t->done() && t != self) cancel_task(*t);
        }
        throw;
    }
    if (g.error) std::rethrow_exception(g.error);
}

}  // namespace asyncio::detail
