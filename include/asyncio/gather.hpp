/// @file
/// gather (the seed's "Additional functions"): run awaitables concurrently, collect results.
///
///      auto [a, b] = co_await asyncio::gather(fetch(1), fetch(2));          // std::tuple
///      std::vector<int> all = co_await asyncio::gather(tasks);              // range of Task<int>
///      std::vector<int> all = co_await asyncio::gather(std::move(coros));   // std::vector<Coro<int>>
///      auto r = co_await asyncio::gather(asyncio::return_exceptions, f(), g());
///      // r: std::tuple<std::variant<R, std::exception_ptr>...>, readable without throwing
///
/// Arguments are promoted to tasks (in argument order) when the gather is first awaited;
/// `void` results are std::monostate. Without return_exceptions the first exception (in
/// completion order; among tasks that had failed before the gather started, in argument order)
/// propagates and the other tasks keep running, unwatched: a later failure of theirs reaches
/// the loop's exception handler (as in MicroPython). Cancelling the task awaiting gather
/// cancels every task still running. Unlike MicroPython, a task may appear twice, and a gathered
/// task may also be awaited elsewhere.
#pragma once

#include <array>
#include <cstddef>
#include <exception>
#include <ranges>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "asyncio/coro.hpp"
#include "asyncio/detail/promote.hpp"
#include "asyncio/export.hpp"
#include "asyncio/task.hpp"

namespace asyncio {

/// Tag: gather(return_exceptions, ...) returns exceptions in place of values.
struct ReturnExceptions {
    explicit ReturnExceptions() = default;
};
/// The tag: `gather(asyncio::return_exceptions, aws...)`.
inline constexpr ReturnExceptions return_exceptions{};

/// A gathered result: `void` becomes std::monostate.
template <class T>
using gather_value_t = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
/// A gathered result with return_exceptions: the value or the exception.
template <class T>
using gather_outcome_t = std::variant<gather_value_t<T>, std::exception_ptr>;

namespace detail {

/// The tasks a gather waits for, read in place (no copy of a range of 100,000 handles):
/// `at(items, i)` is the i-th of `size`. Read only before gather_wait first suspends.
struct GatherChildren {
    const void* items = nullptr;
    std::size_t size = 0;
    TaskBase* (*at)(const void* items, std::size_t i) noexcept = nullptr;
};

/// Waits until every task has finished (or, unless `return_exceptions`, one has failed).
ASYNCIO_API Coro<> gather_wait(GatherChildren tasks, bool return_exceptions);

template <class T>
gather_value_t<T> take_value(const Task<T>& t) {
    TaskBase* b = t.base();
    b->flags |= TaskBase::kAwaited;
    auto* p = static_cast<Promise<T>*>(static_cast<PromiseBase*>(b));
    if constexpr (std::is_void_v<T>) {
        p->get();
        return {};
    } else {
        return p->get();
    }
}

template <class T>
gather_outcome_t<T> take_outcome(const Task<T>& t) {
    if (t.base()->exception) {
        t.base()->flags |= TaskBase::kAwaited;
        return t.base()->exception;
    }
    return gather_outcome_t<T>(std::in_place_index<0>, take_value(t));
}

template <class Tuple>
auto bases_of(const Tuple& tasks) {
    return std::apply([](const auto&... t) { return std::array<TaskBase*, sizeof...(t)>{t.base()...}; },
                      tasks);
}

template <std::size_t N>
GatherChildren children_of(const std::array<TaskBase*, N>& bases) noexcept {
    return {bases.data(), N, [](const void* items, std::size_t i) noexcept {
                return static_cast<TaskBase* const*>(items)[i];
            }};
}

template <class T>
GatherChildren children_of(const std::vector<Task<T>>& tasks) noexcept {
    return {tasks.data(), tasks.size(), [](const void* items, std::size_t i) noexcept {
                return static_cast<const Task<T>*>(items)[i].base();
            }};
}

template <class T>
std::vector<Task<T>> promote_all(std::vector<Coro<T>> coros) {
    std::vector<Task<T>> tasks;
    tasks.reserve(coros.size());
    for (Coro<T>& c : coros) tasks.push_back(create_task(std::move(c)));
    return tasks;
}

}  // namespace detail

/// Runs every awaitable concurrently; the tuple of their values, in argument order.
template <class... A>
Coro<std::tuple<gather_value_t<detail::await_result_t<A>>...>> gather(A... aws) {
    std::tuple<Task<detail::await_result_t<A>>...> tasks{detail::promote(std::move(aws))...};
    auto bases = detail::bases_of(tasks);
    detail::GatherChildren children = detail::children_of(bases);
    co_await detail::gather_wait(children, false);
    co_return std::apply([](const auto&... t) { return std::tuple{detail::take_value(t)...}; }, tasks);
}

/// As gather(), but each element holds the value or the exception (never throws for them).
template <class... A>
Coro<std::tuple<gather_outcome_t<detail::await_result_t<A>>...>> gather(ReturnExceptions, A... aws) {
    std::tuple<Task<detail::await_result_t<A>>...> tasks{detail::promote(std::move(aws))...};
    auto bases = detail::bases_of(tasks);
    detail::GatherChildren children = detail::children_of(bases);
    co_await detail::gather_wait(children, true);
    co_return std::apply([](const auto&... t) { return std::tuple{detail::take_outcome(t)...}; }, tasks);
}

/// Gathers a range of tasks; the values in the range's order.
template <class T>
Coro<std::vector<gather_value_t<T>>> gather(std::vector<Task<T>> tasks) {
    detail::GatherChildren children = detail::children_of(tasks);
    co_await detail::gather_wait(children, false);
    std::vector<gather_value_t<T>> out;
    out.reserve(tasks.size());
    for (const Task<T>& t : tasks) out.push_back(detail::take_value(t));
    co_return out;
}

/// Gathers a vector of coroutines (Python's `gather(*coros)`): each becomes a task, in order,
/// when the gather is first awaited; the values in the vector's order.
template <class T>
Coro<std::vector<gather_value_t<T>>> gather(std::vector<Coro<T>> coros) {
    std::vector<Task<T>> tasks = detail::promote_all(std::move(coros));
    co_return co_await gather(std::move(tasks));
}

/// Gathers a vector of coroutines with return_exceptions.
template <class T>
Coro<std::vector<gather_outcome_t<T>>> gather(ReturnExceptions, std::vector<Coro<T>> coros) {
    std::vector<Task<T>> tasks = detail::promote_all(std::move(coros));
    co_return co_await gather(return_exceptions, std::move(tasks));
}

/// Gathers a range of tasks with return_exceptions.
template <class T>
Coro<std::vector<gather_outcome_t<T>>> gather(ReturnExceptions, std::vector<Task<T>> tasks) {
    detail::GatherChildren children = detail::children_of(tasks);
    co_await detail::gather_wait(children, true);
    std::vector<gather_outcome_t<T>> out;
    out.reserve(tasks.size());
    for (const Task<T>& t : tasks) out.push_back(detail::take_outcome(t));
    co_return out;
}

}  // namespace asyncio
