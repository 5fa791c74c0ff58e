// promote(aw): what wait_for and gather do to their arguments (MicroPython's
// _promote_to_task): a Task is used as it is, a Coro becomes a new task, and any other
// awaitable of the library (Event::wait(), Lock::acquire(), ThreadSafeFlag::wait(), sleep ...)
// is wrapped in a small coroutine that becomes a task.
#pragma once

#include <concepts>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/task.hpp"

namespace asyncio::detail {

template <class T>
struct is_task : std::false_type {};
template <class T>
struct is_task<Task<T>> : std::true_type {};

template <class T>
struct is_coro : std::false_type {};
template <class T>
struct is_coro<Coro<T>> : std::true_type {};

template <class A>
concept LibraryAwaiter = requires(A a) {
    { a.await_ready() } -> std::convertible_to<bool>;
    a.await_resume();
};

/// The value type an awaitable gives.
template <class A>
struct await_result;
template <class T>
struct await_result<Task<T>> {
    using type = T;
};
template <class T>
struct await_result<Coro<T>> {
    using type = T;
};
template <LibraryAwaiter A>
struct await_result<A> {
    using type = decltype(std::declval<A&>().await_resume());
};
template <class A>
using await_result_t = typename await_result<std::remove_cvref_t<A>>::type;

/// Awaits a library awaiter inside its own task. Taken by value: the frame owns it.
template <class A>
Coro<await_result_t<A>> await_in_task(A aw) {
    if constexpr (std::is_void_v<await_result_t<A>>) {
        co_await std::move(aw);
    } else {
        co_return co_await std::move(aw);
    }
}

template <class A>
Task<await_result_t<A>> promote(A&& aw) {
    using Plain = std::remove_cvref_t<A>;
    if constexpr (is_task<Plain>::value) {
        return aw;
    } else if constexpr (is_coro<Plain>::value) {
        return create_task(std::forward<A>(aw));
    } else {
        static_assert(LibraryAwaiter<Plain>,
                      "expected a Task, a Coro or an awaitable of the library (Event::wait(), "
                      "Lock::acquire(), ThreadSafeFlag::wait(), sleep ...)");
        return create_task(await_in_task(Plain(std::forward<A>(aw))));
    }
}

}  // namespace asyncio::detail

namespace asyncio {

/// create_task(aw) for an awaitable of the library other than a Coro (`ev.wait()`,
/// `lock.acquire()`, `flag.wait()`, `sleep(1)` ...): wraps it in a task, as CPython's
/// ensure_future does. The awaitable is copied into the task's frame.
template <class A>
    requires(!detail::is_task<std::remove_cvref_t<A>>::value && !detail::is_coro<std::remove_cvref_t<A>>::value &&
             detail::LibraryAwaiter<std::remove_cvref_t<A>>)
Task<detail::await_result_t<A>> create_task(A&& aw) {
    return create_task(detail::await_in_task(std::remove_cvref_t<A>(std::forward<A>(aw))));
}

}  // namespace asyncio
