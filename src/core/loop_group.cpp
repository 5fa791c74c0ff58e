// run_on_threads: n threads, a loop each, joined; the first exception (by time) rethrown.
#include "asyncio/loop_group.hpp"

#include <exception>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "asyncio/loop.hpp"

namespace asyncio {

namespace {

// The first failure wins; later ones are dropped (their threads still run to the end).
class FirstError {
public:
    void record(std::exception_ptr error) {
        std::lock_guard lock(mutex_);
        if (!first_) first_ = std::move(error);
    }
    void rethrow_if_any() {
        std::lock_guard lock(mutex_);
        if (first_) std::rethrow_exception(first_);
    }

private:
    std::mutex mutex_;
    std::exception_ptr first_;
};

void join_all(std::vector<std::thread>& threads) {
    for (std::thread& t : threads) t.join();
}

}  // namespace

void run_on_threads(std::size_t n, ThreadMain main) {
    if (n == 0) throw std::invalid_argument("run_on_threads: n must be at least 1");
    if (!main) throw std::invalid_argument("run_on_threads: empty main");
    FirstError error;
    std::vector<std::thread> threads;
    threads.reserve(n);
    try {
        for (std::size_t index = 0; index < n; ++index) {
            threads.emplace_back([&main, &error, index] {
                try {
                    asyncio::run(main(index));  // this thread's own loop (get_event_loop is per thread)
                } catch (...) {
                    error.record(std::current_exception());
                }
            });
        }
    } catch (...) {
        join_all(threads);  // never leave a joinable std::thread behind (std::terminate)
        throw;
    }
    join_all(threads);
    error.rethrow_if_any();
}

}  // namespace asyncio
