/// @file
/// Task<T>, create_task, current_task (the seed's "Core functions" and "class Task").
///
/// A Task is a copyable handle to a scheduled coroutine. The loop keeps the task alive while it
/// runs, so dropping every handle does not stop it (as in Python). The task's state lives in
/// its coroutine frame: create_task allocates nothing beyond the frame the Coro already has.
///
///      auto t = asyncio::create_task(work());   // queued; first runs when the caller suspends
///      int v = co_await t;                      // value, or the task's exception rethrown
///      t.cancel();                              // CancelledError at the task's current co_await
///
/// Task<> (= Task<void>) is the type-erased handle every Task<T> converts to.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/scheduler.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/export.hpp"

namespace asyncio {

/// A handle to a task: awaitable for its result, copyable, comparable.
template <class T = void>
class Task;

namespace detail {

/// Makes the root frame `t` (owned by `frame`) a task of this thread's loop and queues it.
ASYNCIO_API void spawn(TaskBase& t, std::coroutine_handle<> frame);
/// Destroys a task whose last reference was dropped.
ASYNCIO_API void destroy_task(TaskBase& t) noexcept;
/// Task::cancel.
ASYNCIO_API bool cancel_task(TaskBase& t);
/// Links `waiter` on `target` and parks the current task (suspended at `h`) until notified.
ASYNCIO_API void await_task(TaskBase& target, TaskWaiter& waiter, std::coroutine_handle<> h);
/// A member other than `operator bool` and `==` was used on an empty Task handle.
[[noreturn]] ASYNCIO_API void raise_empty_task();
/// Task::get_name / set_name (src/core/introspect.cpp).
ASYNCIO_API std::string task_name(const TaskBase& t);
ASYNCIO_API void set_task_name(TaskBase& t, std::string name);
/// Throws InvalidStateError(what) unless `t` has finished; marks its outcome retrieved.
ASYNCIO_API void check_outcome_ready(TaskBase& t, const char* what);

inline void add_ref(TaskBase* t) noexcept {
    if (t != nullptr) ++t->refs;
}
inline void drop_ref(TaskBase* t) noexcept {
    if (t != nullptr && --t->refs == 0) destroy_task(*t);
}

/// `co_await task`: suspends only if the task has not finished; the node in this awaiter
/// (which lives in the awaiting frame) is what the task's completion notifies.
struct TaskAwaiterBase : TaskWaiter {
    TaskBase* target;
    TaskBase* self = nullptr;  // the awaiting task, once suspended

    explicit TaskAwaiterBase(TaskBase* t) noexcept : TaskWaiter(&wake), target(t) {}
    static void wake(TaskWaiter& w) noexcept {
        tls_scheduler->push_ready(static_cast<TaskAwaiterBase&>(w).self);
    }
    bool await_ready() const noexcept { return target->done(); }
    void await_suspend(std::coroutine_handle<> h) { await_task(*target, *this, h); }
    /// Delivers a pending cancel (it wins over the result) and marks the outcome retrieved.
    void finish() const {
        tls_scheduler->check_cancel();
        target->flags |= TaskBase::kAwaited;
    }
};

template <class T>
struct TaskAwaiter : TaskAwaiterBase {
    using TaskAwaiterBase::TaskAwaiterBase;
    T await_resume() const {
        finish();
        return static_cast<Promise<T>*>(static_cast<PromiseBase*>(target))->get();
    }
};

/// Outcome check for the type-erased handle: rethrows the exception, discards any value.
struct ErasedTaskAwaiter : TaskAwaiterBase {
    using TaskAwaiterBase::TaskAwaiterBase;
    void await_resume() const {
        finish();
        if (target->exception) std::rethrow_exception(target->exception);
    }
};

}  // namespace detail

/// The type-erased task handle; also the handle of a task whose coroutine returns void.
template <>
class Task<void> {
public:
    /// An empty handle (e.g. the `future` of an exception context no task raised).
    Task() noexcept = default;
    /// Another handle to the same task.
    Task(const Task& other) noexcept : t_(other.t_) { detail::add_ref(t_); }
    /// Takes over `other`'s reference; `other` becomes empty.
    Task(Task&& other) noexcept : t_(std::exchange(other.t_, nullptr)) {}
    /// Refers to `other`'s task instead.
    Task& operator=(Task other) noexcept {
        std::swap(t_, other.t_);
        return *this;
    }
    ~Task() { detail::drop_ref(t_); }

    /// True once the task has finished (returned, raised or been cancelled).
    /// On an empty handle this, cancel() and co_await throw RuntimeError.
    [[nodiscard]] bool done() const { return task().done(); }

    /// True once the task has finished by being cancelled (CancelledError was its outcome).
    [[nodiscard]] bool cancelled() const { return task().done() && task().has(detail::TaskBase::kCancelled); }

    /// The task's name: the one given to create_task or set_name, else "Task-N", N counting
    /// the tasks created on this thread's loop from 1 (formatted only when asked for).
    [[nodiscard]] std::string get_name() const { return detail::task_name(task()); }
    /// Renames the task (any string, as CPython's str(name)).
    void set_name(std::string name) { detail::set_task_name(task(), std::move(name)); }

    /// The finished task's outcome, as CPython's Task.result(): returns (the value is
    /// discarded by this type-erased handle; Task<T>::result() gives it) or rethrows the
    /// task's exception, CancelledError for a cancelled task. Not finished:
    /// InvalidStateError("Result is not set."). Counts as retrieving the outcome (no
    /// "Task exception wasn't retrieved" report afterwards).
    void result() const {
        detail::check_outcome_ready(task(), "Result is not set.");
        if (t_->exception) std::rethrow_exception(t_->exception);
    }

    /// The finished task's exception, null if it returned normally (CPython's
    /// Task.exception()). Cancelled task: throws CancelledError; not finished:
    /// InvalidStateError("Exception is not set."). Counts as retrieving the outcome.
    [[nodiscard]] std::exception_ptr exception() const {
        detail::check_outcome_ready(task(), "Exception is not set.");
        if (t_->has(detail::TaskBase::kCancelled)) std::rethrow_exception(t_->exception);
        return t_->exception;
    }

    /// Cancels the task: CancelledError is thrown at its current co_await the next time it
    /// runs (at once, in the "now" FIFO position, if it was sleeping or waiting). If it is
    /// awaiting another task, the cancel is forwarded to that task (as MicroPython does).
    /// A task that has not started never runs. Returns false if the task already finished.
    /// Throws RuntimeError("can't cancel self") for the current task.
    bool cancel() { return detail::cancel_task(task()); }

    /// False for an empty handle (default-constructed or moved from).
    explicit operator bool() const noexcept { return t_ != nullptr; }
    friend bool operator==(const Task& a, const Task& b) noexcept { return a.t_ == b.t_; }

    /// Waits for the task; rethrows its exception (the value, if any, is discarded).
    detail::ErasedTaskAwaiter operator co_await() const { return detail::ErasedTaskAwaiter(&task()); }

    /// Adopts a reference the caller already counted (internal).
    static Task adopt(detail::TaskBase* t) noexcept {
        Task h;
        h.t_ = t;
        return h;
    }
    /// The task's header (internal).
    [[nodiscard]] detail::TaskBase* base() const noexcept { return t_; }

protected:
    /// The task, or RuntimeError if this handle is empty.
    detail::TaskBase& task() const {
        if (t_ == nullptr) [[unlikely]] detail::raise_empty_task();
        return *t_;
    }

    /// @private
    detail::TaskBase* t_ = nullptr;
};

/// A handle to a task returning `T`: `co_await task` gives the value or rethrows; done(),
/// cancel(), == and operator bool come from Task<> (its base class).
template <class T>
class Task : public Task<void> {
public:
    Task() noexcept = default;

    /// Waits for the task and gives its value, or rethrows its exception. Several tasks may
    /// await the same task; each gets the value (a copy; a move-only value can be taken once).
    detail::TaskAwaiter<T> operator co_await() const { return detail::TaskAwaiter<T>(&this->task()); }

    /// The finished task's value (a copy; a move-only value can be taken once), or its
    /// exception rethrown; see Task<>::result().
    T result() const {
        detail::check_outcome_ready(this->task(), "Result is not set.");
        return static_cast<detail::Promise<T>*>(static_cast<detail::PromiseBase*>(t_))->get();
    }

    /// @private
    static Task adopt(detail::TaskBase* t) noexcept {
        Task h;
        h.t_ = t;
        return h;
    }
};

/// Schedules `coro` as a new task of this thread's loop and returns its handle. The task first
/// runs when the caller next suspends, after every task already queued (FIFO). Works before
/// the loop runs: the task waits for the next run(). Throws RuntimeError if `coro` is empty
/// (moved from), was already awaited, or the loop is closed.
template <class T>
Task<T> create_task(Coro<T> coro) {
    auto h = coro.release_unstarted();  // RuntimeError if empty or already awaited
    detail::TaskBase& t = h.promise();
    try {
        detail::spawn(t, h);
    } catch (...) {
        h.destroy();  // e.g. the loop is closed: the coroutine never runs
        throw;
    }
    ++t.refs;
    return Task<T>::adopt(&t);
}

/// As create_task(coro), then set_name(name).
template <class T>
Task<T> create_task(Coro<T> coro, std::string name) {
    Task<T> t = create_task(std::move(coro));
    t.set_name(std::move(name));
    return t;
}

/// The task being run. Throws RuntimeError("no running event loop") outside a task.
inline Task<> current_task() {
    detail::Scheduler* s = detail::tls_scheduler;
    if (s == nullptr) detail::raise_no_running_loop();
    detail::TaskBase* t = s->running_task();
    ++t->refs;
    return Task<>::adopt(t);
}

}  // namespace asyncio
