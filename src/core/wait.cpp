// wait() and as_completed(): one TaskWaiter node per task; the waiting task parks either in a
// queue (no timeout) or in the timer heap at its deadline (like wait_for's TimedTaskWait), and
// a node whose task finishes wakes it from wherever it parked.
#include <deque>
#include <limits>
#include <memory>
#include <string>

#include "asyncio/loop.hpp"
#include "asyncio/wait.hpp"

namespace asyncio::detail {

namespace {

constexpr std::int64_t kYield = std::numeric_limits<std::int64_t>::min();

/// Where wait()'s task parks: until wake() or its deadline (kNoTimeout: none; kYield: it
/// just yields once).
class Parking {
public:
    explicit Parking(std::int64_t deadline) noexcept : deadline_(deadline) {}

    /// Makes the parked task (if it is still parked here) runnable now.
    void wake() noexcept {
        if (self_ == nullptr) return;
        Scheduler& s = *tls_scheduler;
        if (self_->state == TaskState::Sleeping && s.timers.contains(self_)) {
            s.timers.remove(self_);
            s.push_ready(self_);
        } else if (self_->state == TaskState::Waiting && self_->wait_target == &queue_) {
            s.wake_all(queue_);
        }
    }

    struct Awaiter {
        Parking& p;
        bool await_ready() const noexcept { return false; }
        void await_suspend(std::coroutine_handle<> h) const {
            Scheduler& s = *tls_scheduler;
            p.self_ = s.current;
            if (p.deadline_ == kNoTimeout) {
                s.park(h, p.queue_);
                return;
            }
            p.self_->resume_point = h;
            if (p.deadline_ == kYield) {
                s.push_ready(p.self_);
            } else {
                s.push_timer(p.self_, p.deadline_);
            }
        }
        void await_resume() const {
            p.self_ = nullptr;
            tls_scheduler->check_cancel();
        }
    };
    Awaiter park() noexcept { return Awaiter{*this}; }

private:
    std::int64_t deadline_;
    TaskBase* self_ = nullptr;
    WaitQueue queue_;
};

struct WaitState;

struct WaitNode : TaskWaiter {
    WaitNode() noexcept : TaskWaiter(&on_done) {}
    static void on_done(TaskWaiter& w) noexcept;
    WaitState* state = nullptr;
    TaskBase* task = nullptr;
};

struct WaitState {
    explicit WaitState(std::int64_t deadline) noexcept : parking(deadline) {}
    std::size_t remaining = 0;
    ReturnWhen when = ALL_COMPLETED;
    bool satisfied = false;
    Parking parking;
};

bool failed(const TaskBase& t) noexcept { return t.exception && !t.has(TaskBase::kCancelled); }

void WaitNode::on_done(TaskWaiter& w) noexcept {
    auto& node = static_cast<WaitNode&>(w);
    WaitState& st = *node.state;
    --st.remaining;
    if (st.satisfied) return;
    if (st.remaining == 0 || st.when == FIRST_COMPLETED || (st.when == FIRST_EXCEPTION && failed(*node.task))) {
        st.satisfied = true;
        st.parking.wake();
    }
}

}  // namespace

std::int64_t wait_deadline(double seconds) noexcept {
    if (!(seconds > 0)) return kYield;
    std::int64_t now = loop_clock_ns();
    double ns = seconds * 1e9;
    if (ns >= static_cast<double>(kNoTimeout - now)) return kNoTimeout - 1;
    return now + static_cast<std::int64_t>(ns);
}

void check_return_when(ReturnWhen when) {
    if (when != FIRST_COMPLETED && when != FIRST_EXCEPTION && when != ALL_COMPLETED) {
        throw std::invalid_argument("Invalid return_when value: " + std::to_string(static_cast<int>(when)));
    }
}

Coro<> wait_bases(std::vector<TaskBase*> tasks, ReturnWhen when, std::int64_t deadline) {
    std::size_t done = 0;
    bool any_failed = false;
    for (TaskBase* t : tasks) {
        if (t->done()) {
            ++done;
            any_failed = any_failed || failed(*t);
        }
    }
    if (done == tasks.size() || (when == FIRST_COMPLETED && done > 0) || (when == FIRST_EXCEPTION && any_failed)) {
        co_return;
    }
    WaitState st(deadline);
    st.when = when;
    auto nodes = std::make_unique<WaitNode[]>(tasks.size());
    for (std::size_t i = 0; i < tasks.size(); ++i) {
        if (tasks[i]->done()) continue;
        nodes[i].state = &st;
        nodes[i].task = tasks[i];
        nodes[i].link(*tasks[i], tls_scheduler->current);
        ++st.remaining;
    }
    co_await st.parking.park();  // until the condition holds or the deadline passes
}

// as_completed: finished tasks queue up in `finished_`; callers of next() park in `parked_`
// (several may wait at once, as in CPython) and are all woken to re-check on every change.
// The deadline is a LoopCallback in the timer heap, armed from construction.

class AsCompletedState {
public:
    AsCompletedState(const std::vector<TaskBase*>& tasks, std::int64_t deadline)
        : nodes_(std::make_unique<Node[]>(tasks.size())), total_(tasks.size()) {
        for (std::size_t i = 0; i < tasks.size(); ++i) {
            if (tasks[i]->done()) {
                finished_.push_back(i);
                continue;
            }
            nodes_[i].state = this;
            nodes_[i].index = i;
            nodes_[i].link(*tasks[i], tls_scheduler != nullptr ? tls_scheduler->current : nullptr);
        }
        if (deadline != kNoTimeout) {
            get_event_loop();  // the timer heap of this thread's loop
            Scheduler& s = *tls_scheduler;
            s.push_timer(&timer_, deadline == kYield ? s.now : deadline);
        }
    }
    AsCompletedState(const AsCompletedState&) = delete;
    AsCompletedState& operator=(const AsCompletedState&) = delete;
    ~AsCompletedState() {
        Scheduler* s = tls_scheduler;
        if (s != nullptr && s->timers.contains(&timer_)) s->timers.remove(&timer_);
        abandon();
    }

    Coro<std::optional<std::size_t>> next() {
        for (;;) {
            if (given_ == total_) co_return std::nullopt;
            if (!finished_.empty()) {
                std::size_t i = finished_.front();
                finished_.pop_front();
                ++given_;
                co_return i;
            }
            if (timed_out_) {
                ++given_;  // one TimeoutError per task not given
                throw TimeoutError();
            }
            co_await WaitOn{parked_};
        }
    }

private:
    struct Node : TaskWaiter {
        Node() noexcept : TaskWaiter(&on_done) {}
        static void on_done(TaskWaiter& w) noexcept {
            auto& node = static_cast<Node&>(w);
            AsCompletedState& st = *node.state;
            if (st.timed_out_) return;  // after the deadline, tasks are no longer given
            st.finished_.push_back(node.index);
            tls_scheduler->wake_all(st.parked_);
        }
        AsCompletedState* state = nullptr;
        std::size_t index = 0;
    };
    struct Timer : LoopCallback {
        explicit Timer(AsCompletedState* s) noexcept : LoopCallback(&on_deadline), state(s) {}
        static void on_deadline(LoopCallback& cb) noexcept {
            AsCompletedState& st = *static_cast<Timer&>(cb).state;
            st.timed_out_ = true;
            tls_scheduler->wake_all(st.parked_);
        }
        AsCompletedState* state;
    };

    /// Destroyed with callers still parked (misuse): they get CancelledError, not a hang.
    void abandon() noexcept {
        while (TaskBase* t = parked_.pop_front()) {
            t->flags |= TaskBase::kCancelPending;
            tls_scheduler->push_ready(t);
        }
    }

    std::unique_ptr<Node[]> nodes_;
    std::deque<std::size_t> finished_;
    WaitQueue parked_;
    Timer timer_{this};
    std::size_t total_;
    std::size_t given_ = 0;
    bool timed_out_ = false;
};

std::unique_ptr<AsCompletedState, void (*)(AsCompletedState*)> make_as_completed(
    const std::vector<TaskBase*>& tasks, std::int64_t deadline) {
    return {new AsCompletedState(tasks, deadline), [](AsCompletedState* s) { delete s; }};
}

Coro<std::optional<std::size_t>> as_completed_next(AsCompletedState& state) { return state.next(); }

}  // namespace asyncio::detail
