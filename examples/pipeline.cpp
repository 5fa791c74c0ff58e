// pipeline: a producer feeds a bounded Queue, N workers process the jobs concurrently (each
// takes a different time), and a printer puts the results back in their original order.
// join() tells the producer side when every job is done; shutdown() then lets the workers end.
//
//   pipeline [--items N] [--workers W]       (defaults: 20 items, 4 workers)
//
// Shows: Queue(maxsize) back-pressure, put/get, task_done/join, shutdown ending the workers
// with QueueShutDown, and a reorder buffer for results that finish out of order.
#include <asyncio/asyncio.hpp>

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Job {
    int seq;
    std::string text;
};

struct Result {
    int seq;
    std::string text;
    int worker;
};

asyncio::Coro<> producer(asyncio::Queue<Job>* jobs, int items) {
    for (int i = 0; i < items; ++i) {
        Job job{i, "item " + std::to_string(i)};  // named first: see docs/pitfalls.md
        co_await jobs->put(std::move(job));       // waits while the queue is full
    }
}

asyncio::Coro<> worker(int id, asyncio::Queue<Job>* jobs, asyncio::Queue<Result>* results) {
    for (;;) {
        Job job;
        try {
            job = co_await jobs->get();
        } catch (const asyncio::QueueShutDown&) {
            co_return;  // no more jobs will come
        }
        co_await asyncio::sleep_ms((job.seq * 7 + id) % 5);  // "work" of uneven length
        for (char& c : job.text) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
        Result r{job.seq, std::move(job.text), id};
        results->put_nowait(std::move(r));  // unbounded: never waits
        jobs->task_done();
    }
}

// Prints results in sequence order, holding back the ones that arrive early.
asyncio::Coro<int> printer(asyncio::Queue<Result>* results, int items) {
    std::map<int, Result> early;
    int next = 0;
    int out_of_order = 0;
    while (next < items) {
        Result r = co_await results->get();
        if (r.seq != next) ++out_of_order;
        int seq = r.seq;
        early.emplace(seq, std::move(r));
        for (auto it = early.find(next); it != early.end(); it = early.find(next)) {
            std::printf("%3d  %-10s (worker %d)\n", it->second.seq, it->second.text.c_str(), it->second.worker);
            early.erase(it);
            ++next;
        }
    }
    co_return out_of_order;
}

asyncio::Coro<int> pipeline(int items, int workers) {
    asyncio::Queue<Job> jobs(4);  // small on purpose: the producer feels back-pressure
    asyncio::Queue<Result> results;
    std::vector<asyncio::Task<>> crew;
    for (int id = 0; id < workers; ++id) crew.push_back(asyncio::create_task(worker(id, &jobs, &results)));
    asyncio::Task<int> print = asyncio::create_task(printer(&results, items));
    co_await producer(&jobs, items);
    co_await jobs.join();  // every job processed
    jobs.shutdown();       // idle workers get QueueShutDown and return
    co_await asyncio::gather(std::move(crew));
    int out_of_order = co_await print;
    std::printf("%d items through %d workers; %d arrived out of order and were put back in place\n", items,
                workers, out_of_order);
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    int items = 20;
    int workers = 4;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--items") == 0) {
            items = std::atoi(argv[i + 1]);
        } else if (std::strcmp(argv[i], "--workers") == 0) {
            workers = std::atoi(argv[i + 1]);
        } else {
            std::fprintf(stderr, "usage: %s [--items N] [--workers W]\n", argv[0]);
            return 2;
        }
    }
    if (items < 0 || workers < 1) {
        std::fprintf(stderr, "need --items >= 0 and --workers >= 1\n");
        return 2;
    }
    return asyncio::run(pipeline(items, workers));
}
