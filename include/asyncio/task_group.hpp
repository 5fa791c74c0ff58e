/// @file
/// task_group, TaskGroup (CPython's `async with asyncio.TaskGroup() as tg:`).
///
///      int n = co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<int> {
///       auto a = tg.create_task(fetch(1));
///       auto b = tg.create_task(fetch(2));
///       co_return 42;                 // the group still waits for a and b
///      });
///
/// Structured concurrency: the body runs inline in the awaiting task; task_group returns (the
/// body's value) only once every child has finished, so no child outlives the group.
///
/// Failures: the first failure of a child (any exception but CancelledError) cancels every other
/// child and the body wherever it is suspended; a failure of the body cancels every child.
/// After all of them have finished, the failures are thrown as one ExceptionGroup: the
/// children's in the order they happened, the body's own last. A child cancelled (by the group
/// or anyone else) is not a failure. A cancel from outside (of the awaiting task, while the
/// body or the group's final wait is suspended) cancels every child, waits for them all, then
/// raises CancelledError (ExceptionGroup instead if a child had failed; the cancel is then
/// delivered at the task's next co_await, as CPython does). The group tells its own cancel of
/// the body from one from outside by counting requests (CPython's uncancel()).
///
/// TaskGroup& is valid only inside the body and in the children it is passed to (capture it by
/// reference there: the group outlives every child). tg.create_task while the group shuts down
/// (after a failure or a cancel) or once it has finished: RuntimeError, and the Coro never runs.
///
/// g++ 12: a lambda that captures BY VALUE something with a destructor, written directly in
/// `co_await task_group(...)`, is destroyed twice (docs/pitfalls.md); capture by reference, or
/// name the lambda first.
#pragma once

#include <coroutine>
#include <cstdint>
#include <exception>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/detail/scheduler.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/export.hpp"
#include "asyncio/task.hpp"

namespace asyncio {

class TaskGroup;

namespace detail {

/// One child of a group: the node that the child's completion notifies.
struct ASYNCIO_API GroupChild : TaskWaiter {
    GroupChild(TaskGroup* g, TaskBase* t) noexcept : TaskWaiter(&on_done), group(g), task(t) {}
    static void on_done(TaskWaiter& w) noexcept;
    TaskGroup* group;
    TaskBase* task;
    GroupChild* prev = nullptr;
    GroupChild* next = nullptr;
};

template <class F>
using group_body_result_t = typename std::invoke_result_t<F&, TaskGroup&>::value_type;

}  // namespace detail

/// The children of one task_group() call; valid only while its body and children run.
class ASYNCIO_API TaskGroup {
public:
    TaskGroup(const TaskGroup&) = delete;
    TaskGroup& operator=(const TaskGroup&) = delete;

    /// Schedules `coro` as a child task of the group (as asyncio::create_task) and returns its
    /// handle. Throws RuntimeError once the group is shutting down or finished.
    template <class T>
    Task<T> create_task(Coro<T> coro) {
        check_accepting();
        detail::GroupChild* node = new_child();  // first: running out of memory creates no task
        Task<T> t;
        try {
            t = asyncio::create_task(std::move(coro));
        } catch (...) {
            free_child(node);
            throw;
        }
        adopt(*node, *t.base());
        return t;
    }

private:
    template <class F>
    friend Coro<detail::group_body_result_t<F>> task_group(F body);
    friend struct detail::GroupChild;

    TaskGroup();
    ~TaskGroup();
    void check_accepting() const;
    detail::GroupChild* new_child();
    static void free_child(detail::GroupChild* node) noexcept;
    void adopt(detail::GroupChild& node, detail::TaskBase& child) noexcept;
    void on_child_done(detail::GroupChild& child) noexcept;
    void abort() noexcept;
    /// The end of the `async with`: waits for every child, then throws what CPython would.
    Coro<> finish(std::exception_ptr body_error, bool body_cancelled);

    detail::TaskBase* parent_;
    detail::GroupChild* children_ = nullptr;  // unfinished children, oldest first (the order
    detail::GroupChild* children_tail_ = nullptr;  // abort() cancels them in)
    std::vector<std::exception_ptr> errors_;
    detail::WaitQueue parked_;  // the parent, waiting in finish() for the last child
    bool exiting_ = false;
    bool aborting_ = false;
    bool parent_cancel_requested_ = false;
};

/// Runs `body(tg)` inline, then waits for every child of `tg`; gives the body's value. See the
/// top of this header.
template <class F>
Coro<detail::group_body_result_t<F>> task_group(F body) {
    using R = detail::group_body_result_t<F>;
    TaskGroup tg;
    std::exception_ptr error;
    bool cancelled = false;
    std::optional<std::conditional_t<std::is_void_v<R>, bool, R>> result;
    try {
        if constexpr (std::is_void_v<R>) {
            co_await body(tg);
            result.emplace(true);
        } else {
            result.emplace(co_await body(tg));
        }
    } catch (const CancelledError&) {
        cancelled = true;
    } catch (...) {
        error = std::current_exception();
    }
    co_await tg.finish(std::move(error), cancelled);
    if constexpr (!std::is_void_v<R>) co_return std::move(*result);
}

}  // namespace asyncio
