// The dangling-reference trap of C++ coroutines (docs/pitfalls.md), shown without invoking
// undefined behaviour: a tracker records when the referenced object dies, and the test checks
// that it died BEFORE the task ran. Reading it from the task would then be a use-after-free.
#include <asyncio/asyncio.hpp>

#include <string>
#include <type_traits>

#include "support/test_loop.hpp"

using namespace asyncio;
using Pitfalls = asyncio::testing::LoopTest;

namespace {

struct Tracked {
    bool* dead;
    std::string text;
    Tracked(bool* d, std::string t) : dead(d), text(std::move(t)) {}
    Tracked(const Tracked& o) : dead(nullptr), text(o.text) {}  // copies are not tracked
    ~Tracked() {
        if (dead != nullptr) *dead = true;
    }
};

// UNSAFE: the frame stores only the reference; the caller's object may be gone when it runs.
Coro<> by_reference(const Tracked& t, bool* ran) {
    (void)t;  // reading t here would be the bug
    *ran = true;
    co_return;
}

// SAFE: the frame owns a copy.
Coro<std::string> by_value(Tracked t) { co_return t.text; }

}  // namespace

TEST_F(Pitfalls, AReferenceParameterCanDieBeforeTheTaskRuns) {
    bool dead = false, ran = false;
    Task<> task;
    {
        Tracked local(&dead, "hello");
        task = create_task(by_reference(local, &ran));
    }  // `local` dies here; the task has not started yet
    EXPECT_TRUE(dead);
    EXPECT_FALSE(ran);
    run([](Task<> t) -> Coro<> { co_await t; }(task));
    EXPECT_TRUE(ran);  // it ran after its argument died: reading it would have been UB
}

TEST_F(Pitfalls, AByValueParameterLivesInTheFrame) {
    bool dead = false;
    Task<std::string> task;
    {
        Tracked local(&dead, "hello");
        task = create_task(by_value(local));
    }
    EXPECT_TRUE(dead);  // the caller's object died, but the frame holds its own copy
    EXPECT_EQ(run([](Task<std::string> t) -> Coro<std::string> { co_return co_await t; }(task)), "hello");
}

TEST_F(Pitfalls, ALambdaCoroutinesCapturesDieWithTheLambdaNotWithTheFrame) {
    bool dead = false;
    Task<> task;
    {
        // The frame keeps only a pointer to the lambda object; its captures live there.
        auto lambda = [t = Tracked(&dead, "hello")]() -> Coro<> {
            (void)t;  // reading t once the lambda is gone would be the bug
            co_return;
        };
        task = create_task(lambda());
    }  // the lambda (and its capture) dies here, before the task runs
    EXPECT_TRUE(dead);
    EXPECT_FALSE(task.done());
    run([](Task<> t) -> Coro<> { co_await t; }(task));
}

TEST_F(Pitfalls, PassingStateAsAParameterOfACaptureLessLambdaIsSafe) {
    bool dead = false;
    Task<std::string> task;
    {
        auto lambda = [](Tracked t) -> Coro<std::string> { co_return t.text; };
        Tracked local(&dead, "hello");
        task = create_task(lambda(local));
    }
    EXPECT_TRUE(dead);
    EXPECT_EQ(run([](Task<std::string> t) -> Coro<std::string> { co_return co_await t; }(task)), "hello");
}

// Issue 10 point 17: the safe forms of two g++ 12 / clang 14 miscompilations.
namespace {

struct Job {
    int id;
    std::string payload;
};

struct Counted {
    static inline int live = 0;
    std::string text;
    explicit Counted(std::string t) : text(std::move(t)) { ++live; }
    Counted(Counted&& o) noexcept : text(std::move(o.text)) { ++live; }
    Counted(const Counted&) = delete;
    ~Counted() { --live; }
};

Coro<std::string> describe(Job job) { co_return std::to_string(job.id) + ":" + job.payload; }
Coro<std::size_t> length(Counted c) { co_return c.text.size(); }
Coro<int> one() { co_return 1; }
Coro<int> two() { co_return 2; }

}  // namespace

TEST_F(Pitfalls, ANamedValueBeforeTheCoAwaitIsDestroyedOnce) {
    auto main = []() -> Coro<> {
        std::string s(100, 'x');        // heap-allocated: a double free would be caught
        Job job{1, std::move(s)};       // SAFE: named first (not `co_await describe(Job{...})`)
        EXPECT_EQ(co_await describe(std::move(job)), "1:" + std::string(100, 'x'));
        Counted c("hello");
        EXPECT_EQ(co_await length(std::move(c)), 5u);
    };
    run(main());
    EXPECT_EQ(Counted::live, 0);  // every object destroyed exactly once
}

TEST_F(Pitfalls, IfElseAndANamedArgumentReplaceTheConditionalOperator) {
    auto main = []() -> Coro<> {
        for (bool flag : {true, false}) {
            int v;
            if (flag) {  // SAFE: not `v = flag ? co_await one() : co_await two();`
                v = co_await one();
            } else {
                v = co_await two();
            }
            EXPECT_EQ(v, flag ? 1 : 2);
            std::string arg = flag ? std::string("yes") : std::string("no");  // SAFE: named first
            EXPECT_EQ(co_await length(Counted(std::move(arg))), flag ? 3u : 2u);
        }
    };
    run(main());
    EXPECT_EQ(Counted::live, 0);
}

namespace {

Coro<std::string> host_of(Address a) { co_return a.host + ":" + std::to_string(a.port); }

}  // namespace

// Address has a constructor (it is not an aggregate), so the braced temporary inside the
// co_await expression is destroyed once even on g++ 12; the host name is longer than the
// small-string buffer, so a double destruction would be a double free under ASan.
TEST_F(Pitfalls, AnAddressWrittenInsideACoAwaitIsDestroyedOnce) {
    static_assert(!std::is_aggregate_v<Address>);
    auto main = []() -> Coro<std::string> {
        co_return co_await host_of(Address{"a-host-name-longer-than-the-small-string-buffer", 7});
    };
    EXPECT_EQ(run(main()), "a-host-name-longer-than-the-small-string-buffer:7");
    auto [host, port] = Address{"h", 1};
    EXPECT_EQ(host, "h");
    EXPECT_EQ(port, 1);
}
