// Port of micropython tests/extmod/asyncio_wait_for_linked_task.py
// (regression test for micropython#16759; despite its name it does not use wait_for).
// Checks: a chain of tasks where task1 awaits task0 and task2 awaits task1 (each then sleeps
// 0.1 s) completes in order, both when task0 then task2 are awaited from a coroutine and when
// loop.run_until_complete() is called on the existing tasks one after the other.
#include <asyncio/asyncio.hpp>

#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace asyncio_wait_for_linked_task_test {

using namespace asyncio;
using asyncio::testing::Trace;
using AsyncioWaitForLinkedTask = asyncio::testing::VirtualTimeTest;  // timers fire without waiting

namespace {

Coro<> job(Task<> prerequisite, std::string task_name, Trace* trace) {
    if (prerequisite) co_await prerequisite;
    co_await sleep(0.1);
    (*trace)(task_name + " work completed");
}

class Worker {
public:
    explicit Worker(Trace* trace) : trace_(trace) {}

    Task<> launch_task(Coro<> async_job) {
        if (event_loop_ == nullptr) event_loop_ = &get_event_loop();
        return event_loop_->create_task(std::move(async_job));
    }

    void plan_tasks() {
        tasks_.push_back(launch_task(job(Task<>(), "task0", trace_)));
        tasks_.push_back(launch_task(job(tasks_[0], "task1", trace_)));
        tasks_.push_back(launch_task(job(tasks_[1], "task2", trace_)));
    }

    [[nodiscard]] Task<> task(std::size_t idx) const { return tasks_[idx]; }

    void sync_wait_for_task(std::size_t idx) { event_loop_->run_until_complete(tasks_[idx]); }

private:
    Trace* trace_;
    Loop* event_loop_ = nullptr;
    std::vector<Task<>> tasks_;
};

Coro<> wait_for_task(Worker* worker, std::size_t idx) {
    Task<> t = worker->task(idx);
    co_await t;
}

Coro<> async_test(Trace* trace) {
    (*trace)("--- async test");
    Worker worker(trace);
    worker.plan_tasks();
    co_await wait_for_task(&worker, 0);
    (*trace)("-> task0 done");
    co_await wait_for_task(&worker, 2);
    (*trace)("-> task2 done");
}

void sync_test(Trace* trace) {
    (*trace)("--- sync test");
    Worker worker(trace);
    worker.plan_tasks();
    worker.sync_wait_for_task(0);
    (*trace)("-> task0 done");
    worker.sync_wait_for_task(2);
    (*trace)("-> task2 done");
}

}  // namespace

TEST_F(AsyncioWaitForLinkedTask, AChainOfTasksAwaitingEachOtherCompletesInOrder) {
    Trace trace;
    get_event_loop().run_until_complete(async_test(&trace));
    sync_test(&trace);

    EXPECT_EQ(trace.lines, (std::vector<std::string>{
                               "--- async test",
                               "task0 work completed",
                               "-> task0 done",
                               "task1 work completed",
                               "task2 work completed",
                               "-> task2 done",
                               "--- sync test",
                               "task0 work completed",
                               "-> task0 done",
                               "task1 work completed",
                               "task2 work completed",
                               "-> task2 done",
                           }));
}

}  // namespace asyncio_wait_for_linked_task_test
