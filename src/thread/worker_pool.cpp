// WorkerPool: see worker_pool.hpp.
#include "thread/worker_pool.hpp"

#include <pthread.h>

#include <algorithm>

#include "core/callback_inbox.hpp"
#include "core/thread_wakeups.hpp"
#include "thread/spin.hpp"

namespace asyncio::detail {

std::size_t WorkerPool::default_max_workers() noexcept {
    std::size_t cpus = std::thread::hardware_concurrency();
    if (cpus == 0) cpus = 1;
    return std::min<std::size_t>(32, cpus + 4);
}

void WorkerPool::submit(CallbackNode* job) {
    std::unique_lock lock(mutex_, std::defer_lock);
    lock_spinning(lock);  // a worker may hold it for a moment (it takes a job)
    job->inbox_next = nullptr;
    if (tail_ != nullptr) {
        tail_->inbox_next = job;
    } else {
        head_ = job;
    }
    tail_ = job;
    ++submitted_;
    const std::size_t queued = queued_.load(std::memory_order_relaxed) + 1;
    queued_.store(queued, std::memory_order_relaxed);
    // Each queued job claims one idle worker: spinning ones first (they take it without being
    // told), then sleeping ones (a futex wake), then a new thread.
    const std::size_t spinning = spinning_.load(std::memory_order_relaxed);
    if (queued <= spinning) return;
    if (queued <= spinning + sleeping_) {
        lock.unlock();
        work_ready_.notify_one();
        return;
    }
    if (threads_.size() >= max_workers_) return;  // every worker busy: the job waits its turn
    try {
        threads_.emplace_back([this] { worker_main(); });
    } catch (...) {
        if (!threads_.empty()) return;  // the existing workers will get to it
        // No thread at all: take the job back out and report.
        head_ = tail_ = nullptr;
        queued_.store(0, std::memory_order_relaxed);
        lock.unlock();
        job->release();
        throw;
    }
}

void WorkerPool::worker_main() {
    ::pthread_setname_np(::pthread_self(), "asyncio-worker");
    std::unique_lock lock(mutex_, std::defer_lock);
    AdaptiveSpin spinner;
    spinning_.fetch_add(1, std::memory_order_relaxed);
    for (;;) {
        // Idle: first watch the queue without the lock for a moment (a caller making calls
        // back to back submits again within ~1 us), then sleep. A submit that counted this
        // worker as spinning does not wake anyone: the worker looks at the queue under the
        // lock below before it sleeps.
        spinner.spin([this] {
            return queued_.load(std::memory_order_relaxed) != 0 || stopping_.load(std::memory_order_relaxed);
        });
        lock_spinning(lock);
        spinning_.fetch_sub(1, std::memory_order_relaxed);
        while (head_ == nullptr && !stopping_.load(std::memory_order_relaxed)) {
            ++sleeping_;
            work_ready_.wait(lock);
            --sleeping_;
        }
        if (stopping_.load(std::memory_order_relaxed)) return;
        CallbackNode* job = head_;
        head_ = job->inbox_next;
        if (head_ == nullptr) tail_ = nullptr;
        queued_.store(queued_.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
        job->inbox_next = nullptr;
        lock.unlock();
        job->work();
        // Idle again before the result is out: the loop may submit the next call the moment it
        // has it, and must count this worker then (or it would start another thread).
        spinning_.fetch_add(1, std::memory_order_relaxed);
        post_back(job);
    }
}

void WorkerPool::post_back(CallbackNode* job) noexcept {
    if (!inbox_.push(job)) {
        job->release();  // the loop closed meanwhile: nobody is left to hear the result
        return;
    }
    wakeups_.notify();
}

void WorkerPool::shutdown() noexcept {
    std::vector<std::thread> threads;
    CallbackNode* dropped = nullptr;
    {
        std::lock_guard lock(mutex_);
        stopping_.store(true, std::memory_order_relaxed);
        dropped = head_;
        head_ = tail_ = nullptr;
        queued_.store(0, std::memory_order_relaxed);
        threads.swap(threads_);
    }
    work_ready_.notify_all();
    for (std::thread& t : threads) t.join();
    while (dropped != nullptr) {
        CallbackNode* next = dropped->inbox_next;
        dropped->inbox_next = nullptr;
        dropped->release();
        dropped = next;
    }
    std::lock_guard lock(mutex_);
    stopping_.store(false, std::memory_order_relaxed);
}

std::size_t WorkerPool::threads() const noexcept {
    std::lock_guard lock(mutex_);
    return threads_.size();
}

}  // namespace asyncio::detail
