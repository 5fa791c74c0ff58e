// Queue, LifoQueue, PriorityQueue: order, blocking put/get served first come first served,
// cancellation at every blocking point (nothing lost), join/task_done, shutdown, destruction
// with waiters, move-only items.
#include <asyncio/asyncio.hpp>

#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using Lines = std::vector<std::string>;
using QueueTest = asyncio::testing::LoopTest;

namespace {

Coro<> getter(Queue<int>* q, Lines* out, std::string name) {
    int v = co_await q->get();
    out->push_back(name + " got " + std::to_string(v));
}

Coro<> putter(Queue<int>* q, Lines* out, std::string name, int v) {
    co_await q->put(v);
    out->push_back(name + " put " + std::to_string(v));
}

template <class Q>
std::vector<int> drain(Q& q) {
    std::vector<int> v;
    while (!q.empty()) v.push_back(q.get_nowait());
    return v;
}

}  // namespace

TEST_F(QueueTest, SizesAndBoundsAreReportedAsCPythonDoes) {
    Queue<int> unbounded;
    EXPECT_EQ(unbounded.maxsize(), 0u);
    EXPECT_TRUE(unbounded.empty());
    EXPECT_FALSE(unbounded.full());
    for (int i = 0; i < 1000; ++i) unbounded.put_nowait(i);
    EXPECT_FALSE(unbounded.full());
    EXPECT_EQ(unbounded.qsize(), 1000u);

    Queue<int> q(2);
    EXPECT_EQ(q.maxsize(), 2u);
    q.put_nowait(1);
    EXPECT_FALSE(q.full());
    q.put_nowait(2);
    EXPECT_TRUE(q.full());
    EXPECT_THROW(q.put_nowait(3), QueueFull);
    EXPECT_EQ(q.qsize(), 2u);
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_EQ(q.get_nowait(), 2);
    EXPECT_THROW(q.get_nowait(), QueueEmpty);
}

TEST_F(QueueTest, EachKindOfQueueHandsItemsOutInItsOwnOrder) {
    Queue<int> fifo;
    LifoQueue<int> lifo;
    PriorityQueue<int> smallest;
    PriorityQueue<int, std::greater<int>> largest;
    for (int i : {5, 1, 4, 2, 3}) {
        fifo.put_nowait(i);
        lifo.put_nowait(i);
        smallest.put_nowait(i);
        largest.put_nowait(i);
    }
    EXPECT_EQ(drain(fifo), (std::vector<int>{5, 1, 4, 2, 3}));
    EXPECT_EQ(drain(lifo), (std::vector<int>{3, 2, 4, 1, 5}));
    EXPECT_EQ(drain(smallest), (std::vector<int>{1, 2, 3, 4, 5}));
    EXPECT_EQ(drain(largest), (std::vector<int>{5, 4, 3, 2, 1}));
}

TEST_F(QueueTest, TheRingBufferKeepsOrderAcrossWrapAroundAndGrowth) {
    Queue<std::string> q;
    int next_in = 0;
    int next_out = 0;
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < round; ++i) q.put_nowait(std::to_string(next_in++));
        for (int i = 0; i < round / 2 + 1 && !q.empty(); ++i) EXPECT_EQ(q.get_nowait(), std::to_string(next_out++));
    }
    while (!q.empty()) EXPECT_EQ(q.get_nowait(), std::to_string(next_out++));
    EXPECT_EQ(next_in, next_out);
}

TEST_F(QueueTest, BlockedGettersAreServedInTheOrderTheyCame) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Queue<int> q;
        Task<> c = create_task(getter(&q, o, "c"));
        Task<> a = create_task(getter(&q, o, "a"));
        Task<> b = create_task(getter(&q, o, "b"));
        co_await sleep(0);
        for (int i = 1; i <= 3; ++i) q.put_nowait(i);
        co_await gather(a, b, c);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"c got 1", "a got 2", "b got 3"}));
}

TEST_F(QueueTest, BlockedPuttersAreServedInTheOrderTheyCame) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Queue<int> q(1);
        q.put_nowait(0);
        Task<> b = create_task(putter(&q, o, "b", 2));
        Task<> a = create_task(putter(&q, o, "a", 1));
        co_await sleep(0);
        EXPECT_EQ(co_await q.get(), 0);
        EXPECT_EQ(co_await q.get(), 2);
        EXPECT_EQ(co_await q.get(), 1);
        co_await gather(a, b);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"b put 2", "a put 1"}));
}

TEST_F(QueueTest, AnItemPromisedToAWokenGetterCannotBeTakenByANewcomer) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q;
        Task<> a = create_task(getter(&q, &o, "a"));
        co_await sleep(0);
        q.put_nowait(7);  // promised to a, which has not run yet
        EXPECT_EQ(q.qsize(), 1u);
        EXPECT_THROW(q.get_nowait(), QueueEmpty);
        q.put_nowait(8);
        EXPECT_EQ(q.get_nowait(), 7);  // not promised: the newcomer may take one (the oldest)
        co_await a;
        EXPECT_EQ(o, (Lines{"a got 8"}));
    };
    run(main());
}

TEST_F(QueueTest, ASlotPromisedToAWokenPutterCannotBeTakenByANewcomer) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q(1);
        q.put_nowait(1);
        Task<> a = create_task(putter(&q, &o, "a", 2));
        co_await sleep(0);
        EXPECT_EQ(q.get_nowait(), 1);  // the slot is promised to a
        EXPECT_TRUE(q.full());
        EXPECT_THROW(q.put_nowait(3), QueueFull);
        co_await a;
        EXPECT_EQ(q.get_nowait(), 2);
    };
    run(main());
}

TEST_F(QueueTest, AGetterCancelledWhileWaitingLeavesTheQueue) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q;
        Task<> a = create_task(getter(&q, &o, "a"));
        Task<> b = create_task(getter(&q, &o, "b"));
        co_await sleep(0);
        a.cancel();
        co_await sleep(0);
        EXPECT_TRUE(a.done());
        q.put_nowait(1);
        co_await b;
        EXPECT_EQ(o, (Lines{"b got 1"}));
        EXPECT_THROW(co_await a, CancelledError);
    };
    run(main());
}

TEST_F(QueueTest, AGetterCancelledAfterAnItemWasPromisedToItPassesTheItemOn) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q;
        Task<> a = create_task(getter(&q, &o, "a"));
        Task<> b = create_task(getter(&q, &o, "b"));
        co_await sleep(0);
        q.put_nowait(1);  // promised to a
        a.cancel();       // before a runs
        co_await b;
        EXPECT_EQ(o, (Lines{"b got 1"}));
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_TRUE(q.empty());
    };
    run(main());
}

TEST_F(QueueTest, AnItemPromisedToACancelledGetterStaysQueuedWhenNobodyElseWaits) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q;
        Task<> a = create_task(getter(&q, &o, "a"));
        co_await sleep(0);
        q.put_nowait(1);
        a.cancel();
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_EQ(q.qsize(), 1u);
        EXPECT_EQ(q.get_nowait(), 1);  // no longer promised to anyone
    };
    run(main());
}

TEST_F(QueueTest, APutterCancelledWhileWaitingPutsNothing) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q(1);
        q.put_nowait(1);
        Task<> a = create_task(putter(&q, &o, "a", 2));
        Task<> b = create_task(putter(&q, &o, "b", 3));
        co_await sleep(0);
        a.cancel();
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_EQ(q.get_nowait(), 1);
        co_await b;
        EXPECT_EQ(q.get_nowait(), 3);
        EXPECT_TRUE(q.empty());
        EXPECT_EQ(o, (Lines{"b put 3"}));
    };
    run(main());
}

TEST_F(QueueTest, APutterCancelledAfterASlotWasPromisedToItPassesTheSlotOn) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q(1);
        q.put_nowait(1);
        Task<> a = create_task(putter(&q, &o, "a", 2));
        Task<> b = create_task(putter(&q, &o, "b", 3));
        co_await sleep(0);
        EXPECT_EQ(q.get_nowait(), 1);  // the slot is promised to a
        a.cancel();
        EXPECT_THROW(co_await a, CancelledError);
        co_await b;
        EXPECT_EQ(q.get_nowait(), 3);
        EXPECT_TRUE(q.empty());
        EXPECT_EQ(o, (Lines{"b put 3"}));
    };
    run(main());
}

TEST_F(QueueTest, ASlotPromisedToACancelledPutterIsFreeAgainWhenNobodyElseWaits) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q(1);
        q.put_nowait(1);
        Task<> a = create_task(putter(&q, &o, "a", 2));
        co_await sleep(0);
        EXPECT_EQ(q.get_nowait(), 1);
        EXPECT_TRUE(q.full());  // promised
        a.cancel();
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_FALSE(q.full());
        q.put_nowait(5);
        EXPECT_EQ(q.get_nowait(), 5);
    };
    run(main());
}

TEST_F(QueueTest, WaitForAroundGetAndPutTimesOutCleanly) {
    auto main = []() -> Coro<> {
        Queue<int> q(1);
        EXPECT_THROW(co_await wait_for_ms(q.get(), 5), TimeoutError);
        q.put_nowait(1);  // nobody waits any more: it stays queued
        EXPECT_EQ(q.qsize(), 1u);
        EXPECT_THROW(co_await wait_for_ms(q.put(2), 5), TimeoutError);
        EXPECT_EQ(q.get_nowait(), 1);
        EXPECT_TRUE(q.empty());  // the timed-out put left nothing behind
        q.put_nowait(3);
        EXPECT_EQ(co_await wait_for_ms(q.get(), 1000), 3);
    };
    run(main());
}

TEST_F(QueueTest, TaskDoneCalledTooOftenRaisesInvalidArgument) {
    Queue<int> q;
    q.put_nowait(1);
    q.task_done();
    try {
        q.task_done();
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(), "task_done() called too many times");
    }
}

TEST_F(QueueTest, JoinWaitsUntilEveryItemIsMarkedDone) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        Queue<int> q;
        co_await q.join();  // nothing unfinished: at once
        for (int i = 0; i < 3; ++i) q.put_nowait(i);
        auto worker = [](Queue<int>* qq, Lines* oo) -> Coro<> {
            for (;;) {
                int v = co_await qq->get();
                co_await sleep(0);
                oo->push_back("done " + std::to_string(v));
                qq->task_done();
            }
        };
        Task<> w = create_task(worker(&q, o));
        co_await q.join();
        o->push_back("joined");
        w.cancel();
        EXPECT_THROW(co_await w, CancelledError);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"done 0", "done 1", "done 2", "joined"}));
}

TEST_F(QueueTest, ACancelledJoinLeavesTheOtherJoinersWaiting) {
    auto main = []() -> Coro<> {
        Queue<int> q;
        q.put_nowait(1);
        Task<> a = create_task([](Queue<int>* qq) -> Coro<> { co_await qq->join(); }(&q));
        Task<> b = create_task([](Queue<int>* qq) -> Coro<> { co_await qq->join(); }(&q));
        co_await sleep(0);
        a.cancel();
        EXPECT_THROW(co_await a, CancelledError);
        EXPECT_FALSE(b.done());
        (void)q.get_nowait();
        q.task_done();
        co_await b;
    };
    run(main());
}

TEST_F(QueueTest, ShutdownMakesPutRaiseAndLetsGetDrainFirst) {
    auto main = []() -> Coro<> {
        Queue<int> q;
        q.put_nowait(1);
        q.put_nowait(2);
        q.shutdown();
        EXPECT_THROW(q.put_nowait(3), QueueShutDown);
        EXPECT_THROW(co_await q.put(3), QueueShutDown);
        EXPECT_EQ(co_await q.get(), 1);
        EXPECT_EQ(q.get_nowait(), 2);
        EXPECT_THROW(co_await q.get(), QueueShutDown);
        EXPECT_THROW(q.get_nowait(), QueueShutDown);
        q.task_done();
        q.task_done();
        co_await q.join();
    };
    run(main());
}

TEST_F(QueueTest, ShutdownWakesBlockedGettersAndPuttersWithQueueShutDown) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> empty_q;
        Task<> g = create_task(getter(&empty_q, &o, "g"));
        Queue<int> full_q(1);
        full_q.put_nowait(1);
        Task<> p = create_task(putter(&full_q, &o, "p", 2));
        co_await sleep(0);
        empty_q.shutdown();
        full_q.shutdown();
        EXPECT_THROW(co_await g, QueueShutDown);
        EXPECT_THROW(co_await p, QueueShutDown);
        EXPECT_EQ(full_q.get_nowait(), 1);  // what was queued is still there
        EXPECT_TRUE(o.empty());
    };
    run(main());
}

TEST_F(QueueTest, ImmediateShutdownDropsTheItemsAndReleasesJoin) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q;
        q.put_nowait(1);
        q.put_nowait(2);
        q.put_nowait(3);
        EXPECT_EQ(q.get_nowait(), 1);  // got, not yet done: still unfinished after shutdown
        Task<> j = create_task([](Queue<int>* qq) -> Coro<> { co_await qq->join(); }(&q));
        co_await sleep(0);
        q.shutdown(true);
        EXPECT_EQ(q.qsize(), 0u);
        EXPECT_THROW(q.get_nowait(), QueueShutDown);
        co_await sleep(0);
        EXPECT_FALSE(j.done());
        q.task_done();
        co_await j;
        EXPECT_THROW(q.task_done(), std::invalid_argument);
    };
    run(main());
}

TEST_F(QueueTest, ImmediateShutdownAfterAnItemWasPromisedToAGetterGivesItQueueShutDown) {
    auto main = []() -> Coro<> {
        Lines o;
        Queue<int> q;
        Task<> g = create_task(getter(&q, &o, "g"));
        co_await sleep(0);
        q.put_nowait(1);  // promised to g
        q.shutdown(true);
        EXPECT_THROW(co_await g, QueueShutDown);
        EXPECT_TRUE(o.empty());
    };
    run(main());
}

TEST_F(QueueTest, DestroyingAQueueWakesEveryWaiterWithCancelledError) {
    auto main = []() -> Coro<> {
        Lines o;
        Task<> g, p, j, promised;
        {
            Queue<int> empty_q;
            g = create_task(getter(&empty_q, &o, "g"));
            Queue<int> full_q(1);
            full_q.put_nowait(1);
            p = create_task(putter(&full_q, &o, "p", 2));
            j = create_task([](Queue<int>* qq) -> Coro<> { co_await qq->join(); }(&full_q));
            Queue<int> handed;
            promised = create_task(getter(&handed, &o, "promised"));
            co_await sleep(0);
            handed.put_nowait(5);  // promised is runnable but has not resumed yet
        }
        EXPECT_THROW(co_await g, CancelledError);
        EXPECT_THROW(co_await p, CancelledError);
        EXPECT_THROW(co_await j, CancelledError);
        EXPECT_THROW(co_await promised, CancelledError);
        EXPECT_TRUE(o.empty());
    };
    run(main());
}

TEST_F(QueueTest, LoopTeardownWithAWokenGetterPassesTheItemOn) {
    Queue<int> q;
    Lines out;
    auto main = [](Queue<int>* qq, Lines* o) -> Coro<> {
        create_task(getter(qq, o, "w"));
        co_await sleep(0);
        qq->put_nowait(1);  // promised to w, which will never run
    };
    run(main(&q, &out));
    new_event_loop();  // destroys w's frame
    EXPECT_EQ(q.get_nowait(), 1);
    EXPECT_TRUE(out.empty());
}

TEST_F(QueueTest, MoveOnlyItemsGoThroughBlockingPutAndGet) {
    auto main = []() -> Coro<> {
        Queue<std::unique_ptr<int>> q(1);
        auto consumer = [](Queue<std::unique_ptr<int>>* qq) -> Coro<int> {
            int sum = 0;
            for (int i = 0; i < 5; ++i) {
                std::unique_ptr<int> p = co_await qq->get();
                sum += *p;
            }
            co_return sum;
        };
        Task<int> c = create_task(consumer(&q));
        for (int i = 1; i <= 5; ++i) {
            auto item = std::make_unique<int>(i);
            co_await q.put(std::move(item));
        }
        EXPECT_EQ(co_await c, 15);
        PriorityQueue<std::unique_ptr<int>, bool (*)(const std::unique_ptr<int>&, const std::unique_ptr<int>&)> pq(
            0, [](const std::unique_ptr<int>& a, const std::unique_ptr<int>& b) { return *a < *b; });
        pq.put_nowait(std::make_unique<int>(3));
        pq.put_nowait(std::make_unique<int>(1));
        EXPECT_EQ(*pq.get_nowait(), 1);
        LifoQueue<std::unique_ptr<int>> lq;
        lq.put_nowait(std::make_unique<int>(4));
        EXPECT_EQ(*co_await lq.get(), 4);
    };
    run(main());
}

TEST_F(QueueTest, AProducerAndAConsumerPassManyItemsThroughASmallQueueInOrder) {
    auto main = []() -> Coro<> {
        Queue<int> q(4);
        auto consumer = [](Queue<int>* qq) -> Coro<long> {
            long sum = 0;
            int expect = 0;
            for (int i = 0; i < 10000; ++i) {
                int v = co_await qq->get();
                EXPECT_EQ(v, expect++);
                sum += v;
                qq->task_done();
            }
            co_return sum;
        };
        Task<long> c = create_task(consumer(&q));
        for (int i = 0; i < 10000; ++i) co_await q.put(i);
        co_await q.join();
        EXPECT_EQ(co_await c, 10000L * 9999 / 2);
    };
    run(main());
}
