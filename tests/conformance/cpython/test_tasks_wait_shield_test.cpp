// Ports of the wait / as_completed / shield tests of CPython's
// Lib/test/test_asyncio/test_tasks.py (behaviour, not code), one TEST per upstream test, named
// after it. Upstream runs on a test loop with virtual time; here the times are a few ms, and
// what is asserted is the order and the done/pending split, never a duration. Futures become
// tasks waiting on an Event. Not ported: test_wait_duplicate_coroutines and
// test_as_completed_duplicate_coroutines (sets; we take ranges of tasks and keep duplicates),
// the invalid-argument TypeErrors (do not compile here), test_as_completed_reverse_wait
// (iterating ahead of completion: next() here is awaited in order).
#include <asyncio/asyncio.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using CPythonTasks = asyncio::testing::LoopTest;

namespace {

Coro<std::string> sleep_result(int ms, std::string v) {
    co_await sleep_ms(ms);
    co_return v;
}

Coro<int> sleep_int(int ms, int v) {
    co_await sleep_ms(ms);
    co_return v;
}

/// A "future": a task that finishes with the value once `ev` is set.
Coro<int> future_of(Event* ev, int* value, bool* fail) {
    co_await ev->wait();
    if (*fail) throw std::runtime_error("expected");
    co_return *value;
}

struct Future {
    Event ev;
    int value = 0;
    bool fail = false;
    Task<int> task;
    Future() : task(create_task(future_of(&ev, &value, &fail))) {}
    void set_result(int v) {
        value = v;
        ev.set();
    }
    void set_exception() {
        fail = true;
        ev.set();
    }
};

}  // namespace

TEST_F(CPythonTasks, test_wait) {
    auto main = []() -> Coro<> {
        Task<int> a = create_task(sleep_int(1, 1));
        Task<int> b = create_task(sleep_int(3, 2));
        std::vector<Task<int>> fs{b, a};
        auto [done, pending] = co_await wait(fs);
        EXPECT_EQ(done, fs);
        EXPECT_TRUE(pending.empty());
        // Doing it again takes no time and exercises a different path.
        auto again = co_await wait(fs);
        EXPECT_EQ(again.done, fs);
    };
    run(main());
}

TEST_F(CPythonTasks, test_wait_errors) {
    auto main = []() -> Coro<> {
        std::vector<Task<int>> none;
        EXPECT_THROW(co_await wait(none), std::invalid_argument);
        std::vector<Task<int>> one{create_task(sleep_int(0, 1))};
        EXPECT_THROW(co_await wait(one, static_cast<ReturnWhen>(-1)), std::invalid_argument);
        co_await one[0];
    };
    run(main());
}

TEST_F(CPythonTasks, test_wait_first_completed) {
    auto main = []() -> Coro<> {
        Task<int> a = create_task(sleep_int(10'000, 1));
        Task<int> b = create_task(sleep_int(1, 2));
        std::vector<Task<int>> fs{b, a};
        auto [done, pending] = co_await wait(fs, FIRST_COMPLETED);
        EXPECT_EQ(done, std::vector<Task<int>>{b});
        EXPECT_EQ(pending, std::vector<Task<int>>{a});
        EXPECT_FALSE(a.done());
        EXPECT_EQ(co_await b, 2);
        a.cancel();
        co_await wait(fs);
    };
    run(main());
}

TEST_F(CPythonTasks, test_wait_really_done) {
    // Upstream: a task that finished while the wait's completion callbacks were still queued is
    // reported done. Here completions wake the waiter directly, so the split is exact at the
    // moment the waiter resumes: whatever is in `done` has finished, whatever is in `pending`
    // has not.
    auto main = []() -> Coro<> {
        auto coro1 = []() -> Coro<int> {
            co_await sleep(0);
            co_return 1;
        };
        auto coro2 = []() -> Coro<int> {
            co_await sleep(0);
            co_await sleep(0);
            co_return 2;
        };
        Task<int> a = create_task(coro1());
        Task<int> b = create_task(coro2());
        std::vector<Task<int>> fs{b, a};
        auto [done, pending] = co_await wait(fs, FIRST_COMPLETED);
        for (const Task<int>& t : done) EXPECT_TRUE(t.done());
        for (const Task<int>& t : pending) EXPECT_FALSE(t.done());
        EXPECT_TRUE(a.done());
        EXPECT_EQ(done.size() + pending.size(), 2u);
        co_await wait(fs);
    };
    run(main());
}

TEST_F(CPythonTasks, test_wait_first_exception) {
    // The task already has an exception when the wait starts.
    auto main = []() -> Coro<> {
        Task<int> a = create_task(sleep_int(10'000, 1));
        auto exc = []() -> Coro<int> {
            throw std::domain_error("err");
            co_return 0;
        };
        Task<int> b = create_task(exc());
        co_await sleep(0);
        std::vector<Task<int>> fs{b, a};
        auto [done, pending] = co_await wait(fs, FIRST_EXCEPTION);
        EXPECT_EQ(done, std::vector<Task<int>>{b});
        EXPECT_EQ(pending, std::vector<Task<int>>{a});
        a.cancel();
        co_await wait(fs);
    };
    run(main());
}

TEST_F(CPythonTasks, test_wait_first_exception_in_wait) {
    auto main = []() -> Coro<> {
        Task<int> a = create_task(sleep_int(10'000, 1));
        auto exc = []() -> Coro<int> {
            co_await sleep_ms(1);
            throw std::domain_error("err");
        };
        Task<int> b = create_task(exc());
        std::vector<Task<int>> fs{b, a};
        auto [done, pending] = co_await wait(fs, FIRST_EXCEPTION);
        EXPECT_EQ(done, std::vector<Task<int>>{b});
        EXPECT_EQ(pending, std::vector<Task<int>>{a});
        a.cancel();
        co_await wait(fs);
    };
    run(main());
}

TEST_F(CPythonTasks, test_wait_with_exception) {
    auto main = []() -> Coro<> {
        Task<int> a = create_task(sleep_int(1, 1));
        auto sleeper = []() -> Coro<int> {
            co_await sleep_ms(2);
            throw std::domain_error("really");
        };
        Task<int> b = create_task(sleeper());
        std::vector<Task<int>> fs{b, a};
        for (int round = 0; round < 2; ++round) {
            auto [done, pending] = co_await wait(fs);
            EXPECT_EQ(done.size(), 2u);
            EXPECT_TRUE(pending.empty());
            int errors = 0;
            for (const Task<int>& t : done) {
                try {
                    co_await t;
                } catch (const std::domain_error&) {
                    ++errors;
                }
            }
            EXPECT_EQ(errors, 1);
        }
    };
    run(main());
}

TEST_F(CPythonTasks, test_wait_with_timeout) {
    auto main = []() -> Coro<> {
        Task<int> a = create_task(sleep_int(1, 1));
        Task<int> b = create_task(sleep_int(10'000, 2));
        std::vector<Task<int>> fs{b, a};
        auto [done, pending] = co_await wait(fs, ALL_COMPLETED, 0.02);
        EXPECT_EQ(done, std::vector<Task<int>>{a});
        EXPECT_EQ(pending, std::vector<Task<int>>{b});
        b.cancel();
        co_await wait(fs);
    };
    run(main());
}

TEST_F(CPythonTasks, test_wait_concurrent_complete) {
    // Upstream: the timeout and `a` expire at the same instant; `a` counts as done. Here `a`
    // finishes in its first step, which runs in the one round a zero timeout waits.
    auto main = []() -> Coro<> {
        auto at_once = []() -> Coro<int> { co_return 1; };
        Task<int> a = create_task(at_once());
        Task<int> b = create_task(sleep_int(10'000, 2));
        std::vector<Task<int>> fs{b, a};
        auto [done, pending] = co_await wait(fs, ALL_COMPLETED, 0.0);
        EXPECT_EQ(done, std::vector<Task<int>>{a});
        EXPECT_EQ(pending, std::vector<Task<int>>{b});
        b.cancel();
        co_await wait(fs);
    };
    run(main());
}

TEST_F(CPythonTasks, test_yield_wait_does_not_shield_cancel) {
    // Cancelling outer() makes wait() end early with CancelledError and leaves inner() running.
    auto main = []() -> Coro<> {
        int proof = 0;
        Event waiter;
        auto inner = [](Event* w, int* p) -> Coro<> {
            co_await w->wait();
            *p += 1;
        };
        auto outer = [](std::vector<Task<>> fs, int* p) -> Coro<> {
            co_await wait(fs);
            *p += 100;
        };
        std::vector<Task<>> fs{create_task(inner(&waiter, &proof))};
        Task<> f = create_task(outer(fs, &proof));
        co_await sleep(0);
        f.cancel();
        EXPECT_THROW(co_await f, CancelledError);
        waiter.set();
        co_await fs[0];
        EXPECT_EQ(proof, 1);
    };
    run(main());
}

TEST_F(CPythonTasks, test_as_completed) {
    auto main = []() -> Coro<> {
        std::vector<Task<std::string>> fs{create_task(sleep_result(1, "b")), create_task(sleep_result(10, "c")),
                                          create_task(sleep_result(1, "a"))};
        std::vector<std::string> values;
        auto next = as_completed(fs);
        while (auto f = co_await next()) values.push_back(co_await *f);
        EXPECT_EQ(values.size(), 3u);
        EXPECT_EQ((std::set<std::string>{values[0], values[1]}), (std::set<std::string>{"a", "b"}));
        EXPECT_EQ(values[2], "c");
        // Doing it again takes no time: every task has finished, so they come in the order
        // given (upstream: in whatever order their callbacks run).
        values.clear();
        auto again = as_completed(fs);
        while (auto f = co_await again()) values.push_back(co_await *f);
        EXPECT_EQ(values, (std::vector<std::string>{"b", "c", "a"}));
    };
    run(main());
}

TEST_F(CPythonTasks, test_as_completed_with_timeout) {
    auto main = []() -> Coro<> {
        Task<std::string> a = create_task(sleep_result(1, "a"));
        Task<std::string> b = create_task(sleep_result(10'000, "b"));
        std::vector<Task<std::string>> fs{a, b};
        std::vector<std::string> values;
        auto next = as_completed(fs, 0.02);
        for (;;) {
            try {
                auto f = co_await next();
                if (!f) break;
                values.push_back("1 " + co_await *f);
            } catch (const TimeoutError&) {
                values.push_back("2 TimeoutError");
            }
        }
        EXPECT_EQ(values, (std::vector<std::string>{"1 a", "2 TimeoutError"}));
        b.cancel();
        co_await wait(fs);
    };
    run(main());
}

TEST_F(CPythonTasks, test_as_completed_with_unused_timeout) {
    auto main = []() -> Coro<> {
        std::vector<Task<std::string>> fs{create_task(sleep_result(1, "a"))};
        auto next = as_completed(fs, 1.0);
        while (auto f = co_await next()) EXPECT_EQ(co_await *f, "a");
    };
    run(main());
}

TEST_F(CPythonTasks, test_as_completed_concurrent) {
    auto main = []() -> Coro<> {
        std::vector<Task<std::string>> fs{create_task(sleep_result(1, "a")), create_task(sleep_result(1, "b"))};
        auto next = as_completed(fs);
        auto waiter = [](decltype(next)* n) -> Coro<std::string> { co_return co_await *co_await (*n)(); };
        std::vector<Task<std::string>> futs{create_task(waiter(&next)), create_task(waiter(&next))};
        auto [done, pending] = co_await wait(futs);
        EXPECT_TRUE(pending.empty());
        std::set<std::string> results;
        for (const Task<std::string>& f : done) results.insert(co_await f);
        EXPECT_EQ(results, (std::set<std::string>{"a", "b"}));
    };
    run(main());
}

TEST_F(CPythonTasks, test_shield_result) {
    auto main = []() -> Coro<> {
        Future inner;
        inner.set_result(42);
        EXPECT_EQ(co_await shield(inner.task), 42);
    };
    run(main());
}

TEST_F(CPythonTasks, test_shield_exception) {
    auto main = []() -> Coro<> {
        Future inner;
        Task<int> outer = create_task(shield(inner.task));
        co_await sleep(0);
        inner.set_exception();
        EXPECT_THROW(co_await outer, std::runtime_error);
    };
    run(main());
}

TEST_F(CPythonTasks, test_shield_cancel) {
    // test_shield_cancel_inner: the inner task cancelled by others cancels the shield.
    auto main = []() -> Coro<> {
        Future inner;
        Task<int> outer = create_task(shield(inner.task));
        co_await sleep(0);
        inner.task.cancel();
        EXPECT_THROW(co_await outer, CancelledError);
    };
    run(main());
}

TEST_F(CPythonTasks, test_shield_shortcut) {
    auto main = []() -> Coro<> {
        Future fut;
        fut.set_result(42);
        co_await sleep(0);
        EXPECT_TRUE(fut.task.done());
        EXPECT_EQ(co_await shield(fut.task), 42);
    };
    run(main());
}

TEST_F(CPythonTasks, test_shield_effect) {
    // Cancelling outer() does not affect inner().
    auto main = []() -> Coro<> {
        int proof = 0;
        Event waiter;
        auto inner = [](Event* w, int* p) -> Coro<> {
            co_await w->wait();
            *p += 1;
        };
        auto outer = [](Event* w, int* p, decltype(inner) in) -> Coro<> {
            co_await shield(in(w, p));
            *p += 100;
        };
        Task<> f = create_task(outer(&waiter, &proof, inner));
        co_await sleep(0);
        f.cancel();
        EXPECT_THROW(co_await f, CancelledError);
        waiter.set();
        co_await sleep(0);
        co_await sleep(0);
        EXPECT_EQ(proof, 1);
    };
    run(main());
}

TEST_F(CPythonTasks, test_shield_gather) {
    auto main = []() -> Coro<> {
        Future child1, child2;
        auto parent = create_task(gather(child1.task, child2.task));
        Task<> outer = create_task(shield(parent));
        co_await sleep(0);
        outer.cancel();
        EXPECT_THROW(co_await outer, CancelledError);
        child1.set_result(1);
        child2.set_result(2);
        auto [r1, r2] = co_await parent;
        EXPECT_EQ(r1, 1);
        EXPECT_EQ(r2, 2);
    };
    run(main());
}

TEST_F(CPythonTasks, test_gather_shield) {
    auto main = []() -> Coro<> {
        Future child1, child2;
        Task<int> inner1 = create_task(shield(child1.task));
        Task<int> inner2 = create_task(shield(child2.task));
        Task<> parent = create_task(gather(inner1, inner2));
        co_await sleep(0);
        parent.cancel();  // cancels inner1 and inner2, but not child1 and child2
        EXPECT_THROW(co_await parent, CancelledError);
        EXPECT_THROW(co_await inner1, CancelledError);
        EXPECT_THROW(co_await inner2, CancelledError);
        EXPECT_FALSE(child1.task.done());
        child1.set_result(1);
        child2.set_result(2);
        EXPECT_EQ(co_await child1.task, 1);
        EXPECT_EQ(co_await child2.task, 2);
    };
    run(main());
}
