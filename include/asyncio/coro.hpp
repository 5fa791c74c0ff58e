/// @file
/// Coro<T>: what a coroutine function of the library returns (the seed's "coroutine").
///
/// A Coro is lazy: nothing runs until it is awaited or handed to create_task(). Awaiting it
/// (`co_await f()`) runs it inline in the awaiting task, like awaiting a coroutine in Python:
/// no new task, no trip through the run queue; it is a scheduling point only if the Coro
/// itself suspends. A Coro is move-only and awaited once, as an rvalue. Dropping a Coro that
/// was never awaited destroys it without running it (so it is [[nodiscard]]).
///
/// Stack use: the native stack grows with the depth of nested awaits (like ordinary calls),
/// never with the number of awaits a loop performs. g++ 12 does not turn symmetric transfer
/// into a tail call at -O0/-O1 or under ASan, so CoroAwaiter resumes the child directly and
/// returns false when it completed without suspending; only a child that really suspended
/// transfers back to its parent from final_suspend. Regression test:
/// CoroTest.AMillionSynchronousAwaitsDoNotGrowTheStack.
#pragma once

#include <coroutine>
#include <cstddef>
#include <exception>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "asyncio/detail/frame_pool.hpp"
#include "asyncio/detail/task_base.hpp"
#include "asyncio/export.hpp"

namespace asyncio {

/// A lazy coroutine returning `T`: nothing runs until it is awaited or made a task.
template <class T = void>
class Coro;

namespace detail {

/// A task finished: store nothing more, wake its waiters, tell the loop (src/core/task.cpp).
ASYNCIO_API void task_finished(TaskBase& t) noexcept;
/// false, but only once a template is instantiated (for static_assert in unused overloads).
template <class>
inline constexpr bool dependent_false = false;

/// A Coro was awaited (or made a task) while empty (`empty`) or after it was already awaited.
[[noreturn]] ASYNCIO_API void raise_bad_coro(bool empty);

struct FinalAwaiter {
    bool await_ready() const noexcept { return false; }
    template <class P>
    std::coroutine_handle<> await_suspend(std::coroutine_handle<P> h) const noexcept {
        TaskBase& p = h.promise();
        if (p.is_task()) {
            task_finished(p);
            return std::noop_coroutine();  // back to the loop, which resumed the task
        }
        if (p.inline_state == InlineState::RunningInline) {
            p.inline_state = InlineState::CompletedInline;
            return std::noop_coroutine();  // back into CoroAwaiter::await_suspend
        }
        return p.continuation;  // the child had suspended: transfer to the parent
    }
    void await_resume() const noexcept {}
};

/// Whether `co_await` on an `A` rvalue goes through a member operator co_await (this
/// library's awaitables that are not awaiters themselves: Coro, Task, Lock, ...).
template <class A, class = void>
struct has_member_co_await : std::false_type {};
template <class A>
struct has_member_co_await<A, std::void_t<decltype(std::declval<A&&>().operator co_await())>> : std::true_type {};

/// The same for a non-member operator co_await (found by argument-dependent lookup).
template <class A, class = void>
struct has_free_co_await : std::false_type {};
template <class A>
struct has_free_co_await<A, std::void_t<decltype(operator co_await(std::declval<A&&>()))>> : std::true_type {};

/// Whether an `A` rvalue does its work when the co_await is evaluated: `std::move(a).
/// begin_await()` does everything but the suspension (SleepAwaiter queues the task) and
/// returns an empty awaiter, whose await_suspend only records where to resume. g++ 12 keeps a
/// co_await's temporary and its awaiter both in the coroutine frame; an empty awaiter takes a
/// byte of padding where AwaitRef takes a word.
template <class A, class = void>
struct has_begin_await : std::false_type {};
template <class A>
struct has_begin_await<A, std::void_t<decltype(std::declval<A&&>().begin_await())>> : std::true_type {};

/// An awaiter that lives elsewhere (a temporary of the co_await expression, kept until the
/// expression ends), awaited in place.
template <class A>
struct AwaitRef {
    A& awaiter;
    decltype(auto) await_ready() { return awaiter.await_ready(); }
    template <class P>
    decltype(auto) await_suspend(std::coroutine_handle<P> h) {
        return awaiter.await_suspend(h);
    }
    decltype(auto) await_resume() { return static_cast<A&&>(awaiter).await_resume(); }
};

class PromiseBase : public TaskBase {
public:
    std::suspend_always initial_suspend() const noexcept { return {}; }
    FinalAwaiter final_suspend() const noexcept { return {}; }
    void unhandled_exception() noexcept { exception = std::current_exception(); }

    /// Every co_await in a Coro passes through here, only to note where it is (call graph:
    /// one store of a compile-time constant); the awaitable itself is awaited as it would be
    /// without this. An lvalue is handed on as it is. An rvalue is never copied or moved
    /// (awaiters linked into wait lists cannot be): its operator co_await, if it has one, is
    /// applied here (its awaiter is a prvalue, as usual), else the awaiter is reached through
    /// AwaitRef, because g++ 12 copies an xvalue awaiter returned by await_transform. An
    /// awaitable with begin_await (has_begin_await) starts its work here instead.
    template <class A>
    decltype(auto) await_transform(A&& awaitable, ASYNCIO_AWAIT_SITE_PARAM) {
        await_site = to_await_site(site);
        if constexpr (std::is_lvalue_reference_v<A>) {
            return static_cast<A&>(awaitable);
        } else if constexpr (has_begin_await<A>::value) {
            return static_cast<A&&>(awaitable).begin_await();
        } else if constexpr (has_member_co_await<A>::value) {
            return static_cast<A&&>(awaitable).operator co_await();
        } else if constexpr (has_free_co_await<A>::value) {
            return operator co_await(static_cast<A&&>(awaitable));
        } else {
            return AwaitRef<A>{awaitable};
        }
    }

    static void* operator new(std::size_t n) { return allocate_frame(n); }
    static void operator delete(void* p, std::size_t n) noexcept { free_frame(p, n); }
};

template <class T>
class Promise : public PromiseBase {
    static_assert(!std::is_reference_v<T>, "Coro<T&> is not supported: return a value or a pointer");

public:
    /// Notes the coroutine function for the call graph (its location is a default argument,
    /// so it names the coroutine being created).
    Promise(ASYNCIO_FRAME_ORIGIN_PARAMS) noexcept { this->origin = created_at; }
    Coro<T> get_return_object() noexcept;

    template <class U = T>
    void return_value(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>) {
        value_.emplace(std::forward<U>(v));
    }

    /// The outcome for the one inline awaiter of a Coro.
    T take() {
        if (exception) std::rethrow_exception(exception);
        return std::move(*value_);
    }
    /// The outcome for one of possibly several awaiters of a Task.
    T get() {
        if (exception) std::rethrow_exception(exception);
        if constexpr (std::is_copy_constructible_v<T>) {
            return *value_;
        } else {
            return std::move(*value_);  // move-only results can be retrieved once
        }
    }

private:
    std::optional<T> value_;
};

template <>
class Promise<void> : public PromiseBase {
public:
    /// As Promise<T>'s.
    Promise(ASYNCIO_FRAME_ORIGIN_PARAMS) noexcept { this->origin = created_at; }
    Coro<void> get_return_object() noexcept;
    void return_void() const noexcept {}
    void take() const {
        if (exception) std::rethrow_exception(exception);
    }
    void get() const { take(); }
};

template <class T>
struct CoroAwaiter {
    std::coroutine_handle<Promise<T>> child;
    TaskBase* parent_frame;  // the awaiting frame if it is one of ours (its `inner` is the child)

    bool await_ready() const {
        // A Coro that was awaited before is finished or suspended inside its first awaiter:
        // resuming it again would be undefined behaviour.
        if (!child || child.promise().inline_state != InlineState::Idle) [[unlikely]] {
            raise_bad_coro(!child);
        }
        return false;
    }
    template <class P>
    bool await_suspend(std::coroutine_handle<P> parent) noexcept {
        Promise<T>& p = child.promise();
        if constexpr (std::is_base_of_v<TaskBase, P>) {
            parent_frame = &parent.promise();
            parent_frame->inner = &p;
        }
        p.continuation = parent;
        p.inline_state = InlineState::RunningInline;
        child.resume();
        if (p.inline_state == InlineState::CompletedInline) return false;  // resume parent now
        p.inline_state = InlineState::Suspended;
        return true;
    }
    T await_resume() const {
        if (parent_frame != nullptr) parent_frame->inner = nullptr;
        return child.promise().take();
    }
};

}  // namespace detail

/// A lazy coroutine returning `T`: nothing runs until it is awaited once (`co_await`) or
/// made a task (`create_task`). Move-only.
template <class T>
class [[nodiscard]] Coro {
public:
    using promise_type = detail::Promise<T>;
    /// The coroutine handle type.
    using handle_type = std::coroutine_handle<promise_type>;
    /// The coroutine's result type.
    using value_type = T;

    Coro() noexcept = default;
    /// Takes over `other`'s coroutine; `other` becomes empty.
    Coro(Coro&& other) noexcept : h_(std::exchange(other.h_, {})) {}
    /// Destroys the coroutine held (if any) and takes over `other`'s.
    Coro& operator=(Coro&& other) noexcept {
        if (this != &other) {
            if (h_) h_.destroy();
            h_ = std::exchange(other.h_, {});
        }
        return *this;
    }
    Coro(const Coro&) = delete;
    Coro& operator=(const Coro&) = delete;
    ~Coro() {
        if (h_) h_.destroy();
    }

    /// Runs the coroutine inline in the awaiting task and gives its value (or rethrows).
    detail::CoroAwaiter<T> operator co_await() && noexcept { return {h_, nullptr}; }

    /// `co_await c` on a named Coro does not compile, with a message that names the fix (g++
    /// alone would say "discards qualifiers [-fpermissive]"). Checked by the compile-fail test
    /// coro_lvalue_await (tests/compile_fail/).
    template <class U = T>
    detail::CoroAwaiter<T> operator co_await() const& noexcept {
        static_assert(detail::dependent_false<U>,
                      "co_await on a named Coro: a Coro is awaited once, as an rvalue; write "
                      "co_await std::move(c)");
        return {h_, nullptr};
    }

    /// True if this Coro still owns a coroutine (not moved from, not handed to a task).
    explicit operator bool() const noexcept { return static_cast<bool>(h_); }

    /// Gives up ownership of the frame (used by create_task).
    handle_type release() noexcept { return std::exchange(h_, {}); }

    /// Hands the frame to create_task: RuntimeError if this Coro is empty or was awaited.
    handle_type release_unstarted() {
        if (!h_ || h_.promise().inline_state != detail::InlineState::Idle) detail::raise_bad_coro(!h_);
        return release();
    }

private:
    friend class detail::Promise<T>;
    explicit Coro(handle_type h) noexcept : h_(h) {}
    handle_type h_;
};

namespace detail {
template <class T>
Coro<T> Promise<T>::get_return_object() noexcept {
    return Coro<T>(std::coroutine_handle<Promise<T>>::from_promise(*this));
}
inline Coro<void> Promise<void>::get_return_object() noexcept {
    return Coro<void>(std::coroutine_handle<Promise<void>>::from_promise(*this));
}
}  // namespace detail

}  // namespace asyncio
