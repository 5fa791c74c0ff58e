/// @file
/// Loop, get_event_loop, new_event_loop, run (the seed's "Event loop" section).
///
/// One loop per thread: get_event_loop() returns the calling thread's loop, created on first
/// use. As in MicroPython, run() reuses that loop and leaves unfinished tasks queued for the
/// next run; new_event_loop() drops them and returns the same (reset) Loop object.
#pragma once

#include <chrono>
#include <cmath>
#include <exception>
#include <functional>
#include <memory>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>

#include "asyncio/coro.hpp"
#include "asyncio/detail/promote.hpp"
#include "asyncio/detail/scheduler.hpp"
#include "asyncio/errors.hpp"
#include "asyncio/export.hpp"
#include "asyncio/task.hpp"
#include "asyncio/timer_handle.hpp"

namespace asyncio {

class Loop;

namespace detail {
class ThreadWakeups;
struct IoHandle;
struct LoopInternals;
struct LoopInspector;
ASYNCIO_API ThreadWakeups& this_thread_wakeups();
ASYNCIO_API void io_watch(IoHandle& h);
ASYNCIO_API void io_unwatch(IoHandle& h) noexcept;

/// True when calling an F returns a Coro or a Task: such a "callback" would only create the
/// coroutine and drop it unrun, so the callback APIs refuse it at compile time (CPython raises
/// TypeError "coroutines cannot be used with ...").
template <class F, bool = std::is_invocable_v<std::decay_t<F>&>>
struct returns_coroutine : std::false_type {};
template <class F>
struct returns_coroutine<F, true>
    : std::bool_constant<is_coro<std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>>::value ||
                         is_task<std::remove_cvref_t<std::invoke_result_t<std::decay_t<F>&>>>::value> {};
}  // namespace detail

/// What the loop passes to its exception handler (the seed's context dictionary).
struct ExceptionContext {
    std::string message;           ///< e.g. "Task exception wasn't retrieved"
    std::exception_ptr exception;  ///< may be null
    Task<> future;                 ///< the task concerned; may be empty
};

/// `handler(loop, context)`; an exception it throws propagates out of run().
using ExceptionHandler = std::function<void(Loop&, const ExceptionContext&)>;

/// The event loop of one thread: runs its tasks, timers, callbacks and I/O (the seed's Loop).
class ASYNCIO_API Loop {
public:
    Loop(const Loop&) = delete;
    Loop& operator=(const Loop&) = delete;
    ~Loop();

    /// As asyncio::create_task, on this loop.
    template <class T>
    Task<T> create_task(Coro<T> coro) {
        if (inherited_) [[unlikely]] check_open();
        return asyncio::create_task(std::move(coro));
    }
    /// As asyncio::create_task of a library awaitable (`ev.wait()`, ...), on this loop.
    template <class A>
        requires(!detail::is_coro<std::remove_cvref_t<A>>::value && detail::LibraryAwaiter<std::remove_cvref_t<A>>)
    Task<detail::await_result_t<A>> create_task(A&& aw) {
        if (inherited_) [[unlikely]] check_open();
        return asyncio::create_task(std::forward<A>(aw));
    }
    /// As asyncio::create_task(coro, name), on this loop.
    template <class T>
    Task<T> create_task(Coro<T> coro, std::string name) {
        if (inherited_) [[unlikely]] check_open();
        return asyncio::create_task(std::move(coro), std::move(name));
    }

    /// Runs `task` until it finishes; returns its value or rethrows its exception
    /// (CancelledError included). Other tasks left unfinished stay queued. Reentrant: called
    /// from inside a task it runs the loop nested (MicroPython does the same).
    template <class T>
    T run_until_complete(Task<T> task) {
        run_until_done(*task.base());
        return static_cast<detail::Promise<T>*>(static_cast<detail::PromiseBase*>(task.base()))->get();
    }
    /// Promotes `coro` to a task and runs it to completion.
    template <class T>
    T run_until_complete(Coro<T> coro) {
        return run_until_complete(create_task(std::move(coro)));
    }
    /// Promotes any other awaitable of the library (`ev.wait()`, `lock.acquire()`, `sleep(1)`,
    /// ...) to a task and runs it to completion, as the seed and CPython do.
    template <class A>
        requires(!detail::is_task<std::remove_cvref_t<A>>::value && !detail::is_coro<std::remove_cvref_t<A>>::value &&
                 detail::LibraryAwaiter<std::remove_cvref_t<A>>)
    detail::await_result_t<A> run_until_complete(A&& aw) {
        return run_until_complete(asyncio::create_task(std::forward<A>(aw)));
    }

    /// Runs until stop() is called. Unfinished tasks carry over to the next run. With nothing
    /// to do it sleeps in the kernel (never returns by itself, as in MicroPython).
    void run_forever();

    /// Makes the active run_forever() return once every task already runnable has had its
    /// turn. Ignored when run_forever() is not running (MicroPython's behaviour).
    void stop() noexcept;

    /// Destroys every unfinished task (their coroutine frames, once no Task handle refers to
    /// them; such handles then see a cancelled task) and closes the loop: later runs and
    /// create_task throw RuntimeError until new_event_loop(). Throws if the loop is running.
    /// Does nothing on a loop inherited across fork() (see get_event_loop()).
    void close();
    /// True after close().
    [[nodiscard]] bool is_closed() const noexcept { return closed_; }
    /// True while run_forever() or run_until_complete() is running.
    [[nodiscard]] bool is_running() const noexcept { return depth_ > 0; }

    /// Installs `handler` for unretrieved task exceptions; nullptr restores the default.
    void set_exception_handler(ExceptionHandler handler) { handler_ = std::move(handler); }
    /// The handler set by set_exception_handler (empty when none is set).
    [[nodiscard]] ExceptionHandler get_exception_handler() const { return handler_; }
    /// Prints the context to stderr as MicroPython does: the message, the task, then the
    /// exception's type and what().
    void default_exception_handler(const ExceptionContext& context);
    /// Calls the handler that is set, or the default one.
    void call_exception_handler(const ExceptionContext& context);

    /// The loop's clock in seconds (monotonic, arbitrary origin): the clock of sleep, wait_for
    /// and timeout deadlines; timeout_at() takes values of it (CPython's loop.time()). With
    /// virtual time it includes every jump made so far (see set_virtual_time).
    [[nodiscard]] double time() const noexcept;

    /// Virtual time (tokio's `time::pause`). On: whenever no task is runnable and no I/O
    /// event or cross-thread wake-up is pending (the poller is still polled, without
    /// blocking, first), the clock jumps to the next sleeper's deadline instead of waiting
    /// for it, so `sleep(3600)` takes no wall time; timers still fire in deadline order.
    /// Off again: the clock runs at real speed from where it is (the offset gained is kept,
    /// so time() never goes back). A task waiting for I/O or another thread with no timer
    /// pending still waits for real. new_event_loop() switches it off. Meant for tests.
    void set_virtual_time(bool on) noexcept { virtual_time_ = on; }
    /// Whether virtual time is on.
    [[nodiscard]] bool virtual_time() const noexcept { return virtual_time_; }

    /// Number of live tasks of this loop (finished tasks still referenced excluded).
    [[nodiscard]] std::size_t task_count() const noexcept { return live_tasks_; }

    /// The readiness back end this loop waits with: "epoll" or "io_uring". Chosen when the
    /// loop is created, from the environment variable ASYNCIO_BACKEND ("epoll", the default
    /// when unset or empty, or "io_uring"; any other value makes creating the loop throw
    /// std::invalid_argument). Where the kernel lacks io_uring or refuses it (seccomp,
    /// kernel.io_uring_disabled), the loop uses epoll; programs behave the same on both.
    [[nodiscard]] std::string_view backend() const noexcept;

    // ---- Callbacks (CPython's loop.call_soon, call_later, call_at, call_soon_threadsafe) ----
    //
    // `f` is any `void()` callable (copied or moved in; move-only callables are fine). It runs
    // on the loop's thread, outside any task (current_task() throws there), in one order with
    // task steps: call_soon queues it behind every task and callback already runnable (FIFO),
    // timers run at their deadline in deadline order, equal deadlines in the order they were
    // set. An exception from `f` goes to the exception handler (message "Exception in
    // callback"); the loop runs on. On a closed loop each of these throws RuntimeError("Event
    // loop is closed"). They may be called before the loop runs; the callback waits for it.
    // A callable returning a Coro or Task does not compile (its coroutine would never run).

    /// Runs `f` soon (loop thread only).
    template <class F>
    TimerHandle call_soon(F&& f) {
        static_assert(!detail::returns_coroutine<F>::value,
                      "coroutines cannot be used with call_soon(): pass [=] { asyncio::create_task(f()); } instead");
        return schedule_soon(detail::make_callback(std::forward<F>(f)));
    }
    /// Runs `f` after `delay` seconds (<= 0: as soon as possible, still in deadline order;
    /// NaN: std::invalid_argument). Loop thread only.
    template <class F>
    TimerHandle call_later(double delay, F&& f) {
        static_assert(!detail::returns_coroutine<F>::value,
                      "coroutines cannot be used with call_later(): pass [=] { asyncio::create_task(f()); } instead");
        const std::int64_t deadline = deadline_after(delay);  // may throw: before the node exists
        return schedule_at(deadline, detail::make_callback(std::forward<F>(f)));
    }
    /// call_later() with a std::chrono duration.
    template <class Rep, class Period, class F>
    TimerHandle call_later(std::chrono::duration<Rep, Period> delay, F&& f) {
        return call_later(std::chrono::duration<double>(delay).count(), std::forward<F>(f));
    }
    /// Runs `f` at `when`, a time() value (seconds on the loop's monotonic clock, that of
    /// std::chrono::steady_clock), or at a steady_clock time point. Loop thread only.
    template <class F>
    TimerHandle call_at(double when, F&& f) {
        static_assert(!detail::returns_coroutine<F>::value,
                      "coroutines cannot be used with call_at(): pass [=] { asyncio::create_task(f()); } instead");
        const std::int64_t deadline = deadline_at(when);  // may throw: before the node exists
        return schedule_at(deadline, detail::make_callback(std::forward<F>(f)));
    }
    /// call_at() with a std::chrono::steady_clock time point.
    template <class F>
    TimerHandle call_at(std::chrono::steady_clock::time_point when, F&& f) {
        return call_at(std::chrono::duration<double>(when.time_since_epoch()).count(), std::forward<F>(f));
    }
    /// Runs `f` soon; callable from ANY thread (the only thread-safe member of Loop besides
    /// is_closed()). Lock-free; a burst of calls wakes a sleeping loop once. The Loop must
    /// outlive the call (it lives until its thread exits). Called on the loop's own thread
    /// it is call_soon.
    template <class F>
    TimerHandle call_soon_threadsafe(F&& f) {
        static_assert(!detail::returns_coroutine<F>::value,
                      "coroutines cannot be used with call_soon_threadsafe(): pass [=] { asyncio::create_task(f()); } instead");
        return schedule_threadsafe(detail::make_callback(std::forward<F>(f)));
    }

    // ---- Unix signals (CPython's add_signal_handler / remove_signal_handler) ----

    /// Runs `f` as an ordinary callback on this loop's thread whenever signal `sig` arrives,
    /// whichever thread of the process the kernel delivers it to. Several deliveries before
    /// the loop gets to run are merged into one call. Replaces this loop's previous handler for
    /// `sig`. Throws std::invalid_argument for a number outside [1, NSIG), RuntimeError for a
    /// signal that cannot be caught (SIGKILL, SIGSTOP, the C library's internal ones), for a
    /// signal another loop of the process handles, or on a closed loop.
    void add_signal_handler(int sig, std::function<void()> f);
    /// A coroutine function is refused at compile time (it would never run).
    template <class F>
        requires detail::returns_coroutine<F>::value
    void add_signal_handler(int, F&&) {
        static_assert(!detail::returns_coroutine<F>::value,
                      "coroutines cannot be used with add_signal_handler(): pass [=] { asyncio::create_task(f()); } "
                      "instead");
    }
    /// Removes this loop's handler for `sig` and restores the default disposition (SIG_DFL).
    /// Returns false if this loop had no handler for it. close() removes every handler.
    bool remove_signal_handler(int sig);

private:
    friend Loop& get_event_loop();
    friend Loop& new_event_loop();
    friend detail::ThreadWakeups& detail::this_thread_wakeups();
    friend void detail::io_watch(detail::IoHandle&);
    friend void detail::io_unwatch(detail::IoHandle&) noexcept;
    friend void detail::spawn(detail::TaskBase&, std::coroutine_handle<>);
    friend void detail::task_finished(detail::TaskBase&) noexcept;
    friend void detail::destroy_task(detail::TaskBase&) noexcept;
    friend bool detail::cancel_task(detail::TaskBase&);
    friend void detail::await_task(detail::TaskBase&, detail::TaskWaiter&, std::coroutine_handle<>);
    friend struct detail::LoopInternals;
    friend struct detail::LoopInspector;  // introspection: names, all_tasks, call graph

    struct Impl;
    Loop();
    void run_until_done(detail::TaskBase& main);
    void run(detail::TaskBase* main);
    void poll_io(std::int64_t timeout_ns);
    void sleep_in_poller(std::int64_t timeout_ns);
    void step(detail::TaskBase* t);
    void finish_step(detail::TaskBase* t);
    void report_unretrieved(detail::TaskBase* t);
    void teardown() noexcept;
    void check_open() const;
    std::int64_t clock_ns() const noexcept;  // monotonic ns + the virtual-time offset
    void unlink(detail::TaskBase& t) noexcept;
    void release_loop_ref(detail::TaskBase& t) noexcept;
    void step_special(detail::TaskBase* t);
    void run_callback(detail::CallbackNode* c);
    void release_queued_callbacks() noexcept;
    // Each takes over the node's reference (and releases it if it throws).
    TimerHandle schedule_soon(detail::CallbackNode* c);
    TimerHandle schedule_at(std::int64_t deadline_ns, detail::CallbackNode* c);
    TimerHandle schedule_threadsafe(detail::CallbackNode* c);
    static std::int64_t deadline_after(double delay);
    static std::int64_t deadline_at(double when);

    detail::Scheduler sched_;
    detail::TaskBase stop_marker_;  // queued by stop(); run_forever returns when it is popped
    std::unique_ptr<Impl> impl_;
    ExceptionHandler handler_;
    detail::TaskBase* all_ = nullptr;  // every live task (doubly linked through all_next/prev)
    detail::TaskBase* main_ = nullptr; // the task run_until_complete waits for
    std::size_t live_tasks_ = 0;
    std::uint64_t tasks_created_ = 0;  // the N of "Task-N"
    std::unordered_map<const detail::TaskBase*, std::string> names_;  // set_name's names
    int depth_ = 0;                 // nesting of run calls in progress
    bool stop_marker_queued_ = false;
    bool stopping_ = false;         // the run in progress must return
    bool in_run_forever_ = false;
    bool closed_ = false;
    bool tearing_down_ = false;
    bool inherited_ = false;        // a child process's copy after fork(): unusable, never destroyed
    bool virtual_time_ = false;
};

/// The calling thread's loop, created on first use.
///
/// fork(): the child process starts with no loop. Every Loop that existed in the parent
/// (on any thread) is, in the child, an inherited copy that is closed (is_closed() is true):
/// running it, create_task, call_soon & co. and signal handlers on it raise RuntimeError, and
/// none of it touches the parent's epoll instance. The child's first get_event_loop() (or
/// asyncio::run) creates a fresh loop; when fork() was called from a task or callback, the
/// inherited loop's run in progress raises that RuntimeError as soon as the step that called
/// fork() returns, and the fresh loop is available once it has unwound. Inherited loops,
/// their tasks and worker threads are never destroyed (a deliberate leak: the tasks belong to
/// the parent's program). Signals a parent's loop handled have their default action again.
ASYNCIO_API Loop& get_event_loop();

/// Drops every task of the calling thread's loop (without running or cancelling them: their
/// frames are destroyed) and reopens it if it was closed; returns the same Loop. The exception
/// handler is kept, as in MicroPython. Throws RuntimeError if the loop is running.
ASYNCIO_API Loop& new_event_loop();

/// Runs `coro` as a task on this thread's loop until it finishes; returns its value or
/// rethrows its exception. Tasks it leaves unfinished stay queued for the next run.
template <class T>
T run(Coro<T> coro) {
    return get_event_loop().run_until_complete(std::move(coro));
}

/// run() of any other awaitable of the library (`asyncio::run(ev.wait())`): promoted to a task.
template <class A>
    requires(!detail::is_coro<std::remove_cvref_t<A>>::value && detail::LibraryAwaiter<std::remove_cvref_t<A>>)
detail::await_result_t<A> run(A&& aw) {
    return get_event_loop().run_until_complete(std::forward<A>(aw));
}

}  // namespace asyncio
