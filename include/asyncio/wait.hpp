/// @file
/// wait, as_completed (CPython's asyncio.wait() and asyncio.as_completed()).
///
///      auto [done, pending] = co_await asyncio::wait(tasks);                    // all finished
///      auto [done, pending] = co_await asyncio::wait(tasks, asyncio::FIRST_COMPLETED, 0.5);
///
///      auto next = asyncio::as_completed(tasks, 2.0);
///      while (auto t = co_await next()) use(co_await *t);   // in the order they finish
///
/// wait(tasks, return_when = ALL_COMPLETED, timeout = none): `tasks` is a range of Task<T>
/// (nothing is promoted: CPython forbids bare coroutines here too). Returns when the condition
/// holds (FIRST_COMPLETED: one task finished; FIRST_EXCEPTION: one failed with an exception
/// other than CancelledError, or all finished; ALL_COMPLETED) or when the timeout expires, which
/// is not an error and cancels nothing. `done` and `pending` keep the order of `tasks`. If the
/// condition already holds, wait returns without suspending (CPython suspends once). Cancelling
/// the waiting task raises CancelledError in it and leaves the tasks running. An empty range or
/// an invalid return_when: std::invalid_argument. Unlike CPython (sets), a task given twice is
/// listed twice.
///
/// as_completed(tasks, timeout = none): the timeout runs from the call. `next()` gives the next
/// task to finish (tasks already finished first, in the order given), as a std::optional<Task<T>>
/// whose outcome `co_await *t` gives without suspending, then std::nullopt once every task was
/// given. At the deadline, each call raises TimeoutError instead (once per task not yet given;
/// tasks finished before the deadline are still given first), nothing is cancelled. Cancelling
/// the task awaiting next() raises CancelledError and loses nothing: the next call goes on.
/// Several tasks may await next() at once (each gets a different task). The object returned is
/// movable; it must outlive every pending next().
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <ranges>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/detail/promote.hpp"
#include "asyncio/export.hpp"
#include "asyncio/task.hpp"
#include "asyncio/timeout.hpp"

namespace asyncio {

/// When wait() returns (CPython's constants of the same names).
enum class ReturnWhen : std::uint8_t { FIRST_COMPLETED, FIRST_EXCEPTION, ALL_COMPLETED };
inline constexpr ReturnWhen FIRST_COMPLETED = ReturnWhen::FIRST_COMPLETED;  ///< when any task finishes
inline constexpr ReturnWhen FIRST_EXCEPTION = ReturnWhen::FIRST_EXCEPTION;  ///< when any task fails, or all finish
inline constexpr ReturnWhen ALL_COMPLETED = ReturnWhen::ALL_COMPLETED;      ///< when every task finished

/// What wait() gives: `auto [done, pending] = co_await wait(...)`.
template <class T>
struct WaitResult {
    std::vector<Task<T>> done;  ///< the tasks that finished, in the order given
    std::vector<Task<T>> pending;  ///< the others, in the order given
};

namespace detail {

inline constexpr std::int64_t kNoTimeout = std::numeric_limits<std::int64_t>::max();

/// A timeout in seconds as a deadline for wait/as_completed: <= 0 is "just yield" (as a
/// CPython call_later(0)), saturating; kNoTimeout for none.
ASYNCIO_API std::int64_t wait_deadline(double seconds) noexcept;

/// Suspends until the condition over `tasks` holds or `deadline` passes (wait.cpp).
ASYNCIO_API Coro<> wait_bases(std::vector<TaskBase*> tasks, ReturnWhen when, std::int64_t deadline);

template <class R>
using range_task_t = std::ranges::range_value_t<R>;

template <class Range>
concept TaskRange = std::ranges::input_range<Range> && is_task<std::remove_cvref_t<range_task_t<Range>>>::value;

template <class Range>
using range_value_of_t = await_result_t<range_task_t<Range>>;

template <class T>
Coro<WaitResult<T>> wait_tasks(std::vector<Task<T>> tasks, ReturnWhen when, std::int64_t deadline) {
    std::vector<TaskBase*> bases;
    bases.reserve(tasks.size());
    for (const Task<T>& t : tasks) bases.push_back(t.base());
    co_await wait_bases(std::move(bases), when, deadline);
    WaitResult<T> r;
    for (Task<T>& t : tasks) (t.done() ? r.done : r.pending).push_back(std::move(t));
    co_return r;
}

template <class Range>
std::vector<range_task_t<Range>> to_task_vector(Range&& tasks) {
    std::vector<range_task_t<Range>> v;
    for (auto&& t : tasks) v.push_back(t);
    if (v.empty()) throw std::invalid_argument("Set of Tasks/Futures is empty.");
    return v;
}

ASYNCIO_API void check_return_when(ReturnWhen when);

/// as_completed's shared state: one waiter node per task, the finished ones in order.
class AsCompletedState;
ASYNCIO_API std::unique_ptr<AsCompletedState, void (*)(AsCompletedState*)> make_as_completed(
    const std::vector<TaskBase*>& tasks, std::int64_t deadline);
/// The index (into the tasks given) of the next task to finish; nullopt after the last one.
ASYNCIO_API Coro<std::optional<std::size_t>> as_completed_next(AsCompletedState& state);

}  // namespace detail

/// Waits for `tasks` until `when` holds; see the top of this header.
template <detail::TaskRange Range>
Coro<WaitResult<detail::range_value_of_t<Range>>> wait(Range&& tasks, ReturnWhen when = ALL_COMPLETED) {
    detail::check_return_when(when);
    return detail::wait_tasks(detail::to_task_vector(std::forward<Range>(tasks)), when, detail::kNoTimeout);
}

/// As wait(tasks, when), returning after at most `timeout` seconds.
template <detail::TaskRange Range>
Coro<WaitResult<detail::range_value_of_t<Range>>> wait(Range&& tasks, ReturnWhen when, double timeout) {
    detail::check_return_when(when);
    return detail::wait_tasks(detail::to_task_vector(std::forward<Range>(tasks)), when,
                              detail::wait_deadline(timeout));
}

/// As wait(tasks, when), returning after at most `timeout`.
template <detail::TaskRange Range, class Rep, class Period>
Coro<WaitResult<detail::range_value_of_t<Range>>> wait(Range&& tasks, ReturnWhen when,
                                                       std::chrono::duration<Rep, Period> timeout) {
    return wait(std::forward<Range>(tasks), when, std::chrono::duration<double>(timeout).count());
}

/// As wait(tasks, when) (CPython's timeout=None).
template <detail::TaskRange Range>
Coro<WaitResult<detail::range_value_of_t<Range>>> wait(Range&& tasks, ReturnWhen when, std::nullopt_t) {
    return wait(std::forward<Range>(tasks), when);
}

/// What as_completed() returns: call it (`co_await next()`) for the next task to finish.
template <class T>
class AsCompleted {
public:
    /// @private
    AsCompleted(std::vector<Task<T>> tasks, std::int64_t deadline)
        : tasks_(std::move(tasks)), state_(detail::make_as_completed(bases(tasks_), deadline)) {}

    /// The next task to finish (its outcome ready), nullopt after the last; TimeoutError at the
    /// deadline.
    Coro<std::optional<Task<T>>> operator()() {
        std::optional<std::size_t> i = co_await detail::as_completed_next(*state_);
        if (!i) co_return std::nullopt;
        co_return tasks_[*i];
    }

private:
    static std::vector<detail::TaskBase*> bases(const std::vector<Task<T>>& tasks) {
        std::vector<detail::TaskBase*> b;
        b.reserve(tasks.size());
        for (const Task<T>& t : tasks) b.push_back(t.base());
        return b;
    }
    std::vector<Task<T>> tasks_;
    std::unique_ptr<detail::AsCompletedState, void (*)(detail::AsCompletedState*)> state_;
};

/// Gives `tasks` in the order they finish; see the top of this header. An empty range gives
/// std::nullopt at once.
template <detail::TaskRange Range>
AsCompleted<detail::range_value_of_t<Range>> as_completed(Range&& tasks) {
    std::vector<detail::range_task_t<Range>> v;
    for (auto&& t : tasks) v.push_back(t);
    return AsCompleted<detail::range_value_of_t<Range>>(std::move(v), detail::kNoTimeout);
}

/// As as_completed(tasks), raising TimeoutError `timeout` seconds from now.
template <detail::TaskRange Range>
AsCompleted<detail::range_value_of_t<Range>> as_completed(Range&& tasks, double timeout) {
    std::vector<detail::range_task_t<Range>> v;
    for (auto&& t : tasks) v.push_back(t);
    return AsCompleted<detail::range_value_of_t<Range>>(std::move(v), detail::wait_deadline(timeout));
}

/// As as_completed(tasks), raising TimeoutError `timeout` from now.
template <detail::TaskRange Range, class Rep, class Period>
AsCompleted<detail::range_value_of_t<Range>> as_completed(Range&& tasks, std::chrono::duration<Rep, Period> timeout) {
    return as_completed(std::forward<Range>(tasks), std::chrono::duration<double>(timeout).count());
}

/// As as_completed(tasks) (CPython's timeout=None).
template <detail::TaskRange Range>
AsCompleted<detail::range_value_of_t<Range>> as_completed(Range&& tasks, std::nullopt_t) {
    return as_completed(std::forward<Range>(tasks));
}

}  // namespace asyncio
