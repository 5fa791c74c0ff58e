// task_group / TaskGroup / ExceptionGroup: every child finishes before the group returns; the
// first failure cancels the rest; cancels from outside; misuse.
#include <asyncio/asyncio.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using Lines = std::vector<std::string>;
using TaskGroupTest = asyncio::testing::LoopTest;

namespace {

Coro<int> value_after(Lines* out, std::string name, int ms, int v) {
    try {
        co_await sleep_ms(ms);
    } catch (const CancelledError&) {
        out->push_back(name + " cancelled");
        throw;
    }
    out->push_back(name + " done");
    co_return v;
}

Coro<int> value_after_yields(Lines* out, std::string name, int yields, int v) {
    for (int i = 0; i < yields; ++i) co_await sleep(0);
    out->push_back(name + " done");
    co_return v;
}

Coro<> fail_after(Lines* out, std::string name, int ms) {
    co_await sleep_ms(ms);
    out->push_back(name + " fails");
    throw std::runtime_error(name);
}

/// The what() of each sub-exception of `g`.
std::vector<std::string> messages(const ExceptionGroup& g) {
    std::vector<std::string> m;
    for (const std::exception_ptr& e : g.exceptions()) {
        try {
            std::rethrow_exception(e);
        } catch (const std::exception& x) {
            m.push_back(x.what());
        }
    }
    return m;
}

}  // namespace

TEST_F(TaskGroupTest, GivesTheBodysValueOnceEveryChildHasFinished) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        int r = co_await task_group([o](TaskGroup& tg) -> Coro<int> {
            tg.create_task(value_after_yields(o, "a", 3, 1));
            tg.create_task(value_after_yields(o, "b", 1, 2));
            o->push_back("body done");
            co_return 42;
        });
        o->push_back("group done");
        EXPECT_EQ(r, 42);
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"body done", "b done", "a done", "group done"}));
}

TEST_F(TaskGroupTest, ChildrenHandlesGiveTheirValuesAndAVoidBodyWorks) {
    auto main = []() -> Coro<> {
        Lines o;
        Task<int> a, b;
        co_await task_group([&](TaskGroup& tg) -> Coro<> {
            a = tg.create_task(value_after(&o, "a", 1, 1));
            b = tg.create_task(value_after(&o, "b", 0, 2));
            co_return;
        });
        EXPECT_TRUE(a.done());
        EXPECT_TRUE(b.done());
        EXPECT_EQ(co_await a + co_await b, 3);
        EXPECT_EQ(co_await task_group([](TaskGroup&) -> Coro<int> { co_return 5; }), 5);  // no child
    };
    run(main());
}

TEST_F(TaskGroupTest, AChildFailureCancelsTheOtherChildrenAndTheWaitingBody) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        try {
            co_await task_group([o](TaskGroup& tg) -> Coro<> {
                tg.create_task(value_after(o, "slow", 10'000, 1));
                tg.create_task(fail_after(o, "bad", 1));
                try {
                    co_await sleep(10.0);
                } catch (const CancelledError&) {
                    o->push_back("body cancelled");
                    throw;
                }
            });
            ADD_FAILURE() << "expected ExceptionGroup";
        } catch (const ExceptionGroup& g) {
            EXPECT_EQ(messages(g), (std::vector<std::string>{"bad"}));
            EXPECT_STREQ(g.what(), "unhandled errors in a TaskGroup (1 sub-exception)");
        }
        co_await sleep_ms(1);  // the group's cancel of this task was taken back
        o->push_back("after");
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"bad fails", "slow cancelled", "body cancelled", "after"}));
}

TEST_F(TaskGroupTest, FailuresComeInTheOrderTheyHappenedTheBodysLast) {
    auto main = []() -> Coro<> {
        Lines o;
        auto stubborn = []() -> Coro<> {
            try {
                co_await sleep(10.0);
            } catch (const CancelledError&) {
                throw std::logic_error("stubborn");  // fails instead of ending cancelled
            }
        };
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<> {
                tg.create_task(stubborn());
                tg.create_task(fail_after(&o, "first", 1));
                try {
                    co_await sleep(10.0);
                } catch (const CancelledError&) {
                }
                throw std::invalid_argument("body");
            });
            ADD_FAILURE() << "expected ExceptionGroup";
        } catch (const ExceptionGroup& g) {
            EXPECT_EQ(messages(g), (std::vector<std::string>{"first", "stubborn", "body"}));
            EXPECT_STREQ(g.what(), "unhandled errors in a TaskGroup (3 sub-exceptions)");
        }
    };
    run(main());
}

TEST_F(TaskGroupTest, ABodyFailureCancelsEveryChild) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        try {
            co_await task_group([o](TaskGroup& tg) -> Coro<> {
                tg.create_task(value_after(o, "a", 10'000, 1));
                tg.create_task(value_after(o, "b", 10'000, 2));
                co_await sleep_ms(1);
                throw std::runtime_error("body");
            });
        } catch (const ExceptionGroup& g) {
            EXPECT_EQ(messages(g), (std::vector<std::string>{"body"}));
            o->push_back("group failed");
        }
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a cancelled", "b cancelled", "group failed"}));  // oldest first
}

TEST_F(TaskGroupTest, AFailureWhileTheBodyAwaitsAChildCancelsThatChild) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        try {
            co_await task_group([o](TaskGroup& tg) -> Coro<> {
                Task<int> slow = tg.create_task(value_after(o, "slow", 10'000, 1));
                tg.create_task(fail_after(o, "bad", 1));
                co_await slow;
            });
        } catch (const ExceptionGroup& g) {
            EXPECT_EQ(messages(g), (std::vector<std::string>{"bad"}));
        }
        co_await sleep(0);
        o->push_back("after");
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"bad fails", "slow cancelled", "after"}));
}

TEST_F(TaskGroupTest, ABodyAwaitingTheChildThatFailsIsCancelledNotGivenTheFailureTwice) {
    // CPython: the group's done callback runs before the body's wake-up and cancels the body,
    // so the failure appears once.
    auto main = []() -> Coro<> {
        Lines o;
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<> {
                Task<> bad = tg.create_task(fail_after(&o, "bad", 1));
                co_await bad;
            });
        } catch (const ExceptionGroup& g) {
            EXPECT_EQ(messages(g), (std::vector<std::string>{"bad"}));
        }
        co_await sleep(0);
    };
    run(main());
}

TEST_F(TaskGroupTest, ACancelFromOutsideCancelsTheChildrenWaitsForThemAndRaisesCancelledError) {
    Lines out;
    auto worker = [](Lines* o) -> Coro<> {
        co_await task_group([o](TaskGroup& tg) -> Coro<> {
            tg.create_task(value_after(o, "child", 10'000, 1));
            try {
                co_await sleep(10.0);
            } catch (const CancelledError&) {
                o->push_back("body cancelled");
                throw;
            }
        });
        o->push_back("not reached");
    };
    auto main = [](Lines* o, decltype(worker) w) -> Coro<> {
        Task<> t = create_task(w(o));
        co_await sleep_ms(1);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        o->push_back("worker cancelled");
    };
    run(main(&out, worker));
    EXPECT_EQ(out, (Lines{"body cancelled", "child cancelled", "worker cancelled"}));
}

TEST_F(TaskGroupTest, ACancelFromOutsideDuringTheFinalWaitCancelsTheChildren) {
    Lines out;
    auto worker = [](Lines* o) -> Coro<> {
        co_await task_group([o](TaskGroup& tg) -> Coro<> {
            tg.create_task(value_after(o, "child", 10'000, 1));
            o->push_back("body done");
            co_return;
        });
    };
    auto main = [](Lines* o, decltype(worker) w) -> Coro<> {
        Task<> t = create_task(w(o));
        co_await sleep_ms(1);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
        o->push_back("worker cancelled");
    };
    run(main(&out, worker));
    EXPECT_EQ(out, (Lines{"body done", "child cancelled", "worker cancelled"}));
}

TEST_F(TaskGroupTest, AnOutsideCancelAfterAChildFailedGivesTheGroupThenCancelledError) {
    Lines out;
    auto worker = [](Lines* o) -> Coro<> {
        auto slow_to_stop = [](Lines* o) -> Coro<> {
            bool cancelled = false;
            try {
                co_await sleep(10.0);
            } catch (const CancelledError&) {
                cancelled = true;
            }
            if (cancelled) {
                co_await sleep_ms(50);  // takes a while to clean up
                o->push_back("slow stopped");
                throw CancelledError{};
            }
        };
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<> {
                tg.create_task(slow_to_stop(o));
                tg.create_task(fail_after(o, "bad", 1));
                co_return;
            });
        } catch (const ExceptionGroup& g) {
            o->push_back("group: " + messages(g).at(0));
        }
        try {
            co_await sleep(0);
        } catch (const CancelledError&) {
            o->push_back("then cancelled");
            throw;
        }
    };
    auto main = [](Lines* o, decltype(worker) w) -> Coro<> {
        Task<> t = create_task(w(o));
        co_await sleep_ms(20);  // "bad" has failed; the group waits for slow_to_stop
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
    };
    run(main(&out, worker));
    EXPECT_EQ(out, (Lines{"bad fails", "slow stopped", "group: bad", "then cancelled"}));
}

TEST_F(TaskGroupTest, ChildrenCancelledBySomeoneElseAreNotFailures) {
    auto main = []() -> Coro<> {
        Lines o;
        int r = co_await task_group([&](TaskGroup& tg) -> Coro<int> {
            Task<int> victim = tg.create_task(value_after(&o, "victim", 10'000, 1));
            co_await sleep_ms(1);
            victim.cancel();
            co_return 3;
        });
        EXPECT_EQ(r, 3);
        EXPECT_EQ(o, (Lines{"victim cancelled"}));
    };
    run(main());
}

TEST_F(TaskGroupTest, ChildrenMayAddChildrenWhileTheGroupWaits) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        co_await task_group([o](TaskGroup& tg) -> Coro<> {
            auto spawner = [](Lines* o, TaskGroup& tg) -> Coro<> {
                co_await sleep_ms(1);
                tg.create_task(value_after(o, "grandchild", 1, 0));
                o->push_back("spawner done");
            };
            tg.create_task(spawner(o, tg));
            co_return;
        });
        o->push_back("group done");
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"spawner done", "grandchild done", "group done"}));
}

TEST_F(TaskGroupTest, CreateTaskWhileTheGroupShutsDownRaisesRuntimeError) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        try {
            co_await task_group([o](TaskGroup& tg) -> Coro<> {
                auto late = [](Lines* o, TaskGroup& tg) -> Coro<> {
                    try {
                        co_await sleep(10.0);
                    } catch (const CancelledError&) {
                        try {
                            tg.create_task(value_after(o, "never", 0, 0));
                        } catch (const RuntimeError& e) {
                            o->push_back(e.what());
                        }
                        throw;
                    }
                };
                tg.create_task(late(o, tg));
                co_await sleep_ms(1);
                throw std::runtime_error("body");
            });
        } catch (const ExceptionGroup&) {
            o->push_back("group failed");
        }
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"TaskGroup is shutting down", "group failed"}));
}

TEST_F(TaskGroupTest, NestedGroupsReportTheInnerGroupInsideTheOuter) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        try {
            co_await task_group([o](TaskGroup& outer) -> Coro<> {
                outer.create_task(value_after(o, "outer child", 10'000, 1));
                co_await task_group([o](TaskGroup& inner) -> Coro<> {
                    inner.create_task(value_after(o, "inner child", 10'000, 1));
                    inner.create_task(fail_after(o, "inner bad", 1));
                    co_return;
                });
            });
        } catch (const ExceptionGroup& g) {
            EXPECT_EQ(g.exceptions().size(), 1u);
            try {
                std::rethrow_exception(g.exceptions()[0]);
            } catch (const ExceptionGroup& inner) {
                EXPECT_EQ(messages(inner), (std::vector<std::string>{"inner bad"}));
                o->push_back("nested group");
            }
        }
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"inner bad fails", "inner child cancelled", "outer child cancelled", "nested group"}));
}

TEST_F(TaskGroupTest, AFailingInnerGroupChildDoesNotCancelTheOuterBodyTwice) {
    // The inner group cancels the (shared) task once and takes it back; the outer group sees
    // only the inner ExceptionGroup raised by its body, and cancels its own children once.
    auto main = []() -> Coro<> {
        Lines o;
        int caught = 0;
        co_await task_group([&](TaskGroup& outer) -> Coro<> {
            outer.create_task(value_after(&o, "sibling", 2, 0));
            try {
                co_await task_group([&](TaskGroup& inner) -> Coro<> {
                    inner.create_task(fail_after(&o, "inner bad", 1));
                    co_await sleep(10.0);
                });
            } catch (const ExceptionGroup&) {
                ++caught;
            }
            co_await sleep_ms(5);  // the outer body goes on: it was not cancelled
            o.push_back("outer body done");
        });
        EXPECT_EQ(caught, 1);
        EXPECT_EQ(o, (Lines{"inner bad fails", "sibling done", "outer body done"}));
    };
    run(main());
}

TEST_F(TaskGroupTest, ATimeoutAroundAGroupCancelsItsChildrenAndRaisesTimeoutError) {
    Lines out;
    auto main = [](Lines* o) -> Coro<> {
        auto group = [](Lines* o) -> Coro<> {
            co_await task_group([o](TaskGroup& tg) -> Coro<> {
                tg.create_task(value_after(o, "a", 10'000, 1));
                co_await sleep(10.0);
            });
        };
        EXPECT_THROW(co_await timeout(0.002, group(o)), TimeoutError);
        o->push_back("timed out");
    };
    run(main(&out));
    EXPECT_EQ(out, (Lines{"a cancelled", "timed out"}));
}

TEST_F(TaskGroupTest, ABodyThatSwallowsTheGroupsCancelStillGetsTheGroup) {
    auto main = []() -> Coro<> {
        Lines o;
        try {
            co_await task_group([&](TaskGroup& tg) -> Coro<> {
                tg.create_task(fail_after(&o, "bad", 1));
                try {
                    co_await sleep(10.0);
                } catch (const CancelledError&) {
                    o.push_back("body swallowed the cancel");
                }
            });
        } catch (const ExceptionGroup& g) {
            EXPECT_EQ(messages(g), (std::vector<std::string>{"bad"}));
            o.push_back("group");
        }
        co_await sleep(0);
        EXPECT_EQ(o, (Lines{"bad fails", "body swallowed the cancel", "group"}));
    };
    run(main());
}

TEST_F(TaskGroupTest, AThousandChildren) {
    auto main = []() -> Coro<> {
        int sum = 0;
        auto add = [](int* s, int i) -> Coro<> {
            co_await sleep(0);
            *s += i;
        };
        co_await task_group([&](TaskGroup& tg) -> Coro<> {
            for (int i = 1; i <= 1000; ++i) tg.create_task(add(&sum, i));
            co_return;
        });
        EXPECT_EQ(sum, 500500);
    };
    run(main());
}

TEST_F(TaskGroupTest, ClosingTheLoopWhileAGroupWaitsIsClean) {
    auto worker = []() -> Coro<> {
        Lines o;
        co_await task_group([&o](TaskGroup& tg) -> Coro<> {
            tg.create_task(value_after(&o, "a", 10'000, 1));
            tg.create_task(value_after(&o, "b", 10'000, 1));
            co_return;
        });
    };
    auto main = [](decltype(worker) w) -> Coro<> {
        create_task(w());
        co_await sleep_ms(1);
    };
    run(main(worker));
    new_event_loop();
}
