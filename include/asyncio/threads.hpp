/// @file
/// to_thread and run_coroutine_threadsafe (CPython's asyncio.to_thread and
/// asyncio.run_coroutine_threadsafe): the two bridges between the loop and ordinary threads.
///
///      std::string page = co_await asyncio::to_thread(read_file, path);   // blocking call, off-loop
///
///      // on some other thread, with `loop` running on its own thread:
///      std::future<int> f = asyncio::run_coroutine_threadsafe(compute(), loop);
///      int v = f.get();
///
/// to_thread(f, args...) calls f(args...) on a worker thread of the calling thread's loop and
/// gives its value (or rethrows its exception) in the awaiting task. `f` and `args` are copied
/// (decayed) as std::thread copies them; pass std::ref to share. The call is submitted when the
/// Coro is first awaited. The pool belongs to the loop: at most min(32, cores + 4) threads,
/// started as needed, joined when the loop closes (close() waits for calls in progress; calls
/// not yet started are dropped). The result comes back through the loop's cross-thread wake-up:
/// the awaiting task sleeps in the poller, nothing polls. Cancelling the awaiting task raises
/// CancelledError in it at once; the call runs on to its end on its thread, its result is
/// dropped, and the other threads of the pool serve other calls meanwhile. On a closed or closing
/// loop: RuntimeError.
///
/// run_coroutine_threadsafe(coro, loop), from a thread other than the loop's: schedules `coro` as a
/// task of `loop` and returns a std::future for its value or exception. If the loop is closed
/// before the task finishes, the future holds CancelledError; if it is closed already, the call
/// throws RuntimeError("Event loop is closed"). Unlike CPython's concurrent.futures.Future, a
/// std::future cannot cancel the task.
#pragma once

#include <exception>
#include <functional>
#include <future>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/callback.hpp"
#include "asyncio/detail/scheduler.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/export.hpp"
#include "asyncio/loop.hpp"
#include "asyncio/task.hpp"

namespace asyncio {

namespace detail {

/// Queues `job` (with the reference it carries) on the calling thread's loop's worker pool.
/// Throws RuntimeError if that loop is closed or closing (the reference is then released).
ASYNCIO_API void submit_to_thread(CallbackNode* job);

/// One to_thread call: work() runs on a worker, run() on the loop once the worker posted it back.
template <class R>
class ThreadJob : public CallbackNode {
public:
    WaitQueue waiter;  // the awaiting task, parked until run()

    /// Loop thread: the worker is done; wake the awaiting task, if it still waits.
    void run() override { tls_scheduler->wake_all(waiter); }

    /// Loop thread, after the wake-up: the value or the exception (the inbox hand-off ordered
    /// the worker's writes before this).
    R take() {
        if (error_) std::rethrow_exception(error_);
        if constexpr (std::is_void_v<R>) {
            return;
        } else {
            return std::move(*value_);
        }
    }

protected:
    template <class Fn>
    void call(Fn& work_fn) noexcept {
        try {
            if constexpr (std::is_void_v<R>) {
                work_fn();
            } else {
                value_.emplace(work_fn());
            }
        } catch (...) {
            error_ = std::current_exception();
        }
    }

private:
    struct Empty {};
    std::optional<std::conditional_t<std::is_void_v<R>, Empty, R>> value_;
    std::exception_ptr error_;
};

template <class R, class Fn>
class ThreadJobOf final : public ThreadJob<R> {
public:
    explicit ThreadJobOf(Fn job_fn) : fn_(std::move(job_fn)) {}
    void work() noexcept override {
        this->call(*fn_);
        fn_.reset();  // the arguments die on the worker, as after a std::thread's call
    }

private:
    std::optional<Fn> fn_;
};

/// An owning reference to a ThreadJob (the awaiting frame's share).
template <class R>
class JobRef {
public:
    explicit JobRef(ThreadJob<R>* job) noexcept : job_(job) {}
    JobRef(JobRef&& other) noexcept : job_(std::exchange(other.job_, nullptr)) {}
    JobRef(const JobRef&) = delete;
    JobRef& operator=(const JobRef&) = delete;
    JobRef& operator=(JobRef&&) = delete;
    ~JobRef() {
        if (job_ != nullptr) job_->release();
    }
    ThreadJob<R>* operator->() const noexcept { return job_; }
    ThreadJob<R>* get() const noexcept { return job_; }

private:
    ThreadJob<R>* job_;
};

template <class R>
Coro<R> await_thread_job(JobRef<R> job) {
    job->add_ref();  // the pool's share, handed back to the loop with the result
    submit_to_thread(job.get());
    WaitOn parked{job->waiter};  // named: g++ 12 and braced temporaries in co_await
    co_await parked;             // CancelledError here at once if the task is cancelled
    co_return job->take();
}

template <class F, class... Args>
using thread_result_t = std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>, std::decay_t<Args>...>>;

/// The promise behind run_coroutine_threadsafe's future; CancelledError if dropped unfulfilled
/// (the loop closed before the task finished).
template <class T>
class FutureSetter {
public:
    FutureSetter() = default;
    FutureSetter(FutureSetter&& other) noexcept
        : promise_(std::move(other.promise_)), armed_(std::exchange(other.armed_, false)) {}
    FutureSetter& operator=(FutureSetter&&) = delete;
    ~FutureSetter() {
        if (armed_) promise_.set_exception(std::make_exception_ptr(CancelledError{}));
    }
    std::future<T> get_future() { return promise_.get_future(); }
    template <class... V>
    void set_value(V&&... v) {
        armed_ = false;
        promise_.set_value(std::forward<V>(v)...);
    }
    void set_exception(std::exception_ptr e) {
        armed_ = false;
        promise_.set_exception(std::move(e));
    }

private:
    std::promise<T> promise_;
    bool armed_ = true;
};

template <class T>
Coro<> fulfil(Coro<T> coro, FutureSetter<T> out) {
    try {
        if constexpr (std::is_void_v<T>) {
            co_await std::move(coro);
            out.set_value();
        } else {
            T value = co_await std::move(coro);
            out.set_value(std::move(value));
        }
    } catch (...) {
        out.set_exception(std::current_exception());
    }
}

}  // namespace detail

/// Calls f(args...) on a worker thread of this thread's loop; see the top of this header.
template <class F, class... Args>
Coro<detail::thread_result_t<F, Args...>> to_thread(F&& f, Args&&... args) {
    using R = detail::thread_result_t<F, Args...>;
    auto call = [fn = std::decay_t<F>(std::forward<F>(f)),
                 bound = std::tuple<std::decay_t<Args>...>(std::forward<Args>(args)...)]() mutable -> R {
        return std::apply([&fn](auto&... a) -> R { return std::invoke(std::move(fn), std::move(a)...); }, bound);
    };
    detail::JobRef<R> job(new detail::ThreadJobOf<R, decltype(call)>(std::move(call)));
    return detail::await_thread_job<R>(std::move(job));
}

/// Runs `coro` as a task of `loop` (from another thread); see the top of this header.
template <class T>
std::future<T> run_coroutine_threadsafe(Coro<T> coro, Loop& loop) {
    if (!coro) throw std::invalid_argument("run_coroutine_threadsafe: a coroutine is required");
    detail::FutureSetter<T> out;
    std::future<T> result = out.get_future();
    loop.call_soon_threadsafe([c = std::move(coro), o = std::move(out)]() mutable {
        asyncio::create_task(detail::fulfil(std::move(c), std::move(o)));
    });
    return result;
}

}  // namespace asyncio
