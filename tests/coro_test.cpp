#include <asyncio/asyncio.hpp>

#include <memory>
#include <stdexcept>
#include <string>

#include "support/test_loop.hpp"

using namespace asyncio;
using asyncio::testing::LoopTest;
using CoroTest = LoopTest;

namespace {

Coro<int> add(int a, int b) { co_return a + b; }

Coro<int> add_after_yield(int a, int b) {
    co_await sleep(0);
    co_return a + b;
}

Coro<> fail() {
    throw std::runtime_error("boom");
    co_return;
}

}  // namespace

TEST_F(CoroTest, AwaitingACoroReturnsItsValue) {
    EXPECT_EQ(run([]() -> Coro<int> { co_return co_await add(2, 3); }()), 5);
}

TEST_F(CoroTest, AwaitingACoroRethrowsItsException) {
    EXPECT_THROW(run(fail()), std::runtime_error);
}

TEST_F(CoroTest, AwaitingACoroRunsItInlineWithoutANewTask) {
    auto body = []() -> Coro<int> {
        Task<> outer = current_task();
        auto inner = [](Task<> expected) -> Coro<int> {
            EXPECT_TRUE(current_task() == expected);  // same task: no task was created
            co_return 7;
        };
        int v = co_await inner(outer);
        co_return v + (get_event_loop().task_count() == 1 ? 0 : 100);
    };
    EXPECT_EQ(run(body()), 7);
}

TEST_F(CoroTest, AwaitingACoroThatDoesNotSuspendIsNotASchedulingPoint) {
    std::vector<std::string> trace;
    auto other = [](std::vector<std::string>* t) -> Coro<> {
        t->push_back("other");
        co_return;
    };
    auto body = [](std::vector<std::string>* t, Coro<> o) -> Coro<> {
        create_task(std::move(o));
        t->push_back("before");
        int v = co_await add(1, 2);  // completes inline: "other" must not run in between
        t->push_back("after " + std::to_string(v));
        co_await sleep(0);
        t->push_back("end");
    };
    run(body(&trace, other(&trace)));
    EXPECT_EQ(trace, (std::vector<std::string>{"before", "after 3", "other", "end"}));
}

TEST_F(CoroTest, AwaitingACoroThatSuspendsResumesTheAwaiterWithItsValue) {
    auto body = []() -> Coro<int> {
        int sum = 0;
        for (int i = 0; i < 100; ++i) sum += co_await add_after_yield(i, 1);
        co_return sum;
    };
    EXPECT_EQ(run(body()), 5050);
}

// g++ 12 does not make symmetric transfer a tail call at -O0/-O1 or under ASan: this loop
// would overflow the stack if CoroAwaiter relied on it (PERFORMANCE.md T6).
TEST_F(CoroTest, AMillionSynchronousAwaitsDoNotGrowTheStack) {
    auto body = []() -> Coro<long> {
        long sum = 0;
        for (int i = 0; i < 1'000'000; ++i) sum += co_await add(i, 0);
        co_return sum;
    };
    EXPECT_EQ(run(body()), 499'999'500'000L);
}

namespace {
Coro<int> depth(int n) {
    if (n == 0) {
        co_await sleep(0);
        co_return 0;
    }
    int below = co_await depth(n - 1);
    co_return below + 1;
}
}  // namespace

// Nesting uses native stack like calls do (docs/pitfalls.md). AddressSanitizer's frames are
// several times larger, so its builds test a shallower chain.
#if defined(__SANITIZE_ADDRESS__)
constexpr int kDepth = 1'000;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr int kDepth = 1'000;
#else
constexpr int kDepth = 10'000;
#endif
#else
constexpr int kDepth = 10'000;
#endif

TEST_F(CoroTest, DeepChainsOfNestedAwaitsComplete) {
    EXPECT_EQ(run(depth(kDepth)), kDepth);
}

TEST_F(CoroTest, ACoroThatIsNeverAwaitedNeverRuns) {
    bool ran = false;
    auto body = [](bool* flag) -> Coro<> {
        *flag = true;
        co_return;
    };
    {
        Coro<> c = body(&ran);
        EXPECT_TRUE(static_cast<bool>(c));
    }
    EXPECT_FALSE(ran);
}

TEST_F(CoroTest, AwaitingAMovedFromCoroRaisesRuntimeError) {
    auto body = []() -> Coro<> {
        Coro<int> c = add(1, 2);
        Coro<int> d = std::move(c);
        EXPECT_EQ(co_await std::move(d), 3);
        EXPECT_THROW(co_await std::move(c), RuntimeError);
    };
    run(body());
}

TEST_F(CoroTest, MoveOnlyValuesAreReturned) {
    auto make = []() -> Coro<std::unique_ptr<int>> { co_return std::make_unique<int>(42); };
    auto body = [](Coro<std::unique_ptr<int>> c) -> Coro<int> {
        std::unique_ptr<int> p = co_await std::move(c);
        co_return *p;
    };
    EXPECT_EQ(run(body(make())), 42);
}

// Issue 10 point 4: a second await resumed the finished frame again (SIGSEGV).
TEST_F(CoroTest, Issue10_AwaitingACoroASecondTimeRaisesRuntimeErrorNamingTheFix) {
    auto body = []() -> Coro<> {
        Coro<int> c = add(1, 2);
        EXPECT_EQ(co_await std::move(c), 3);
        try {
            (void)co_await std::move(c);  // NOLINT(bugprone-use-after-move)
            ADD_FAILURE() << "expected RuntimeError";
        } catch (const RuntimeError& e) {
            EXPECT_NE(std::string(e.what()).find("Coro awaited twice"), std::string::npos) << e.what();
            EXPECT_NE(std::string(e.what()).find("create_task"), std::string::npos) << e.what();
        }
        // Same for a Coro that suspended on its first await.
        Coro<int> s = add_after_yield(2, 2);
        EXPECT_EQ(co_await std::move(s), 4);
        EXPECT_THROW(co_await std::move(s), RuntimeError);  // NOLINT(bugprone-use-after-move)
    };
    run(body());
}

TEST_F(CoroTest, Issue10_AwaitingACoroWhileAnotherTaskIsStillAwaitingItRaises) {
    auto body = []() -> Coro<> {
        Coro<int> shared = add_after_yield(1, 1);
        Coro<int>* p = &shared;
        Task<int> first = create_task([](Coro<int>* c) -> Coro<int> { co_return co_await std::move(*c); }(p));
        co_await sleep(0);  // `first` is suspended inside `shared`
        EXPECT_THROW(co_await std::move(shared), RuntimeError);
        EXPECT_EQ(co_await first, 2);
    };
    run(body());
}
