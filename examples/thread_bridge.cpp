// A worker thread hands results to the loop through a ThreadSafeFlag.
//
// The worker computes (here: sums of squares, slowly), puts each result in a mutex-protected
// queue and sets the flag; a task waits on the flag and drains the queue. Meanwhile another
// task keeps ticking, showing the loop stays responsive while the worker runs.
//
//   build/release/examples/thread_bridge [--items N]
#include <asyncio/asyncio.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace {

struct Mailbox {
    std::mutex mutex;
    std::deque<long> results;
    bool finished = false;
    asyncio::ThreadSafeFlag ready;  // set() after each push, from the worker thread
};

void worker(Mailbox& box, int items) {
    for (int i = 1; i <= items; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(30));  // "work"
        long sum = 0;
        for (long k = 1; k <= i * 1000L; ++k) sum += k * k % 7;
        {
            std::lock_guard<std::mutex> lock(box.mutex);
            box.results.push_back(sum);
            box.finished = i == items;
        }
        box.ready.set();
    }
}

asyncio::Coro<> ticker(bool* stop) {
    int n = 0;
    while (!*stop) {
        co_await asyncio::sleep_ms(50);
        std::printf("  tick %d (loop still responsive)\n", ++n);
    }
}

asyncio::Coro<int> consumer(Mailbox* box) {
    int received = 0;
    for (;;) {
        co_await box->ready.wait();
        std::deque<long> batch;
        bool finished;
        {
            std::lock_guard<std::mutex> lock(box->mutex);
            batch.swap(box->results);
            finished = box->finished;
        }
        for (long r : batch) std::printf("result %d: %ld\n", ++received, r);
        if (finished) co_return received;
    }
}

asyncio::Coro<int> main_task(int items) {
    Mailbox box;
    bool stop = false;
    std::thread thread(worker, std::ref(box), items);
    asyncio::Task<> tick = asyncio::create_task(ticker(&stop));
    int received = co_await consumer(&box);
    thread.join();
    stop = true;
    co_await tick;
    co_return received;
}

}  // namespace

int main(int argc, char** argv) {
    int items = 8;
    if (argc == 3 && std::strcmp(argv[1], "--items") == 0) items = std::atoi(argv[2]);
    if (items <= 0) {
        std::fprintf(stderr, "usage: %s [--items N]\n", argv[0]);
        return 2;
    }
    int received = asyncio::run(main_task(items));
    std::printf("received %d of %d results\n", received, items);
    return received == items ? 0 : 1;
}
