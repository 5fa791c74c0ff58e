// Ports of CPython's Lib/test/test_asyncio/test_threads.py (behaviour, not code), one TEST per
// upstream test, named after it.
// Not ported: test_to_thread_contextvars (C++ has no context variables; the call sees the
// arguments it was given, as test_to_thread_args_kwargs shows). Keyword arguments become
// positional ones.
#include <asyncio/asyncio.hpp>

#include <atomic>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using CPythonToThread = asyncio::testing::LoopTest;

TEST_F(CPythonToThread, test_to_thread) {
    auto sum = [](std::vector<int> v) { return std::accumulate(v.begin(), v.end(), 0); };
    EXPECT_EQ(run(to_thread(sum, std::vector<int>{40, 2})), 42);
}

TEST_F(CPythonToThread, test_to_thread_exception) {
    auto main = []() -> Coro<std::string> {
        try {
            co_await to_thread([] { throw RuntimeError("test"); });
        } catch (const RuntimeError& e) {
            co_return e.what();
        }
        co_return "no exception";
    };
    EXPECT_EQ(run(main()), "test");
}

TEST_F(CPythonToThread, test_to_thread_once) {
    std::atomic<int> calls{0};
    run(to_thread([&calls] { ++calls; }));
    EXPECT_EQ(calls.load(), 1);
}

TEST_F(CPythonToThread, test_to_thread_concurrent) {
    std::atomic<int> calls{0};
    auto main = [](std::atomic<int>* c) -> Coro<> {
        std::vector<Task<>> futs;
        for (int i = 0; i < 10; ++i) futs.push_back(create_task(to_thread([c] { ++*c; })));
        co_await gather(futs);
    };
    run(main(&calls));
    EXPECT_EQ(calls.load(), 10);
}

TEST_F(CPythonToThread, test_to_thread_args_kwargs) {
    std::string seen;
    auto func = [&seen](std::string arg, bool something) { seen = arg + (something ? " something=True" : ""); };
    run(to_thread(func, std::string("test"), true));
    EXPECT_EQ(seen, "test something=True");
}
