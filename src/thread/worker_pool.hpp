// WorkerPool: the loop's threads for to_thread (CPython's default executor).
//
// Bounded at min(32, cpu_count + 4) threads, CPython's ThreadPoolExecutor rule. Threads start
// lazily: submit() starts one only when no worker is idle and the bound allows it. A worker
// takes a job, calls its work() (the user's function), and posts the job back to its loop
// through the loop's CallbackInbox; the loop then runs the job's run(), which wakes the task
// awaiting it. A job whose task was cancelled still runs to the end; the pool is not blocked
// for others beyond the one thread it occupies.
//
// The job queue is a short mutex-protected FIFO. A worker that finished a job spins briefly
// (thread/spin.hpp) watching the queue before it sleeps on the condition variable, so calls
// made back to back find it awake: the submit then costs an uncontended lock and no system
// call. Only a job that finds no spinning worker wakes a sleeping one (a futex wake) or starts
// a thread. The loop's own hot path never touches the pool.
//
// shutdown() (loop close, new_event_loop, thread exit): jobs not yet started are dropped, jobs
// in progress are waited for, every thread is joined. The pool may start again afterwards.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#include "asyncio/detail/callback.hpp"

namespace asyncio::detail {

class CallbackInbox;
class ThreadWakeups;

class WorkerPool {
public:
    WorkerPool(CallbackInbox& inbox, ThreadWakeups& wakeups) noexcept : inbox_(inbox), wakeups_(wakeups) {}
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;
    ~WorkerPool() { shutdown(); }

    /// CPython's default: min(32, os.cpu_count() + 4).
    static std::size_t default_max_workers() noexcept;

    /// Loop thread: queues `job` (taking over its reference). Throws std::system_error if no
    /// thread could be started and none exists.
    void submit(CallbackNode* job);
    /// Loop thread: drops queued jobs, waits for running ones, joins every thread.
    void shutdown() noexcept;

    /// Threads started and not yet joined (for tests and benchmarks).
    [[nodiscard]] std::size_t threads() const noexcept;
    /// Loop thread: how many jobs were ever submitted (the loop spins once per new batch).
    [[nodiscard]] std::uint64_t submitted() const noexcept { return submitted_; }

private:
    void worker_main();
    void post_back(CallbackNode* job) noexcept;

    CallbackInbox& inbox_;
    ThreadWakeups& wakeups_;
    const std::size_t max_workers_ = default_max_workers();

    mutable std::mutex mutex_;
    std::condition_variable work_ready_;
    CallbackNode* head_ = nullptr;  // queued jobs, linked through inbox_next
    CallbackNode* tail_ = nullptr;
    // Written under mutex_; atomic so that spinning workers may watch them without it.
    std::atomic<std::size_t> queued_{0};  // jobs in the queue
    std::atomic<bool> stopping_{false};
    // Idle workers spinning (each will look at the queue under the lock); changed without it.
    std::atomic<std::size_t> spinning_{0};
    std::size_t sleeping_ = 0;            // idle workers waiting on work_ready_
    std::vector<std::thread> threads_;
    std::uint64_t submitted_ = 0;         // loop thread only
};

}  // namespace asyncio::detail
