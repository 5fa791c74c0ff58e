// Ports of CPython's Lib/test/test_asyncio/test_taskgroups.py (behaviour, not code), one TEST
// per upstream test, named after it. Times are scaled down (0.1 s -> a few ms) keeping their
// order; "1 / 0" is a std::domain_error, MyExc a std::logic_error.
// Not ported: test_taskgroup_20/20a/21/21a (KeyboardInterrupt, BaseException: no such thing in
// C++), test_taskgroup_23 (reads the private g._tasks), test_taskgroup_task_name (task names).
#include <asyncio/asyncio.hpp>

#include <set>
#include <stdexcept>
#include <string>
#include <typeindex>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using CPythonTaskGroups = asyncio::testing::LoopTest;

namespace {

/// CPython's get_error_types(eg): the set of the sub-exceptions' types.
std::set<std::type_index> error_types(const ExceptionGroup& g) {
    std::set<std::type_index> types;
    for (const std::exception_ptr& e : g.exceptions()) {
        try {
            std::rethrow_exception(e);
        } catch (const ExceptionGroup&) {
            types.insert(typeid(ExceptionGroup));
        } catch (const std::domain_error&) {
            types.insert(typeid(std::domain_error));
        } catch (const std::invalid_argument&) {
            types.insert(typeid(std::invalid_argument));
        } catch (const std::logic_error&) {
            types.insert(typeid(std::logic_error));
        } catch (...) {
            types.insert(typeid(void));
        }
    }
    return types;
}

using Types = std::set<std::type_index>;

Coro<int> sleep_then(int ms, int v) {
    co_await sleep_ms(ms);
    co_return v;
}

Coro<> divide_by_zero_after(int ms) {
    co_await sleep_ms(ms);
    throw std::domain_error("division by zero");
}

Coro<> value_error_after(int ms) {
    co_await sleep_ms(ms);
    throw std::invalid_argument("ValueError");
}

/// Counts a cancel, then lets it through.
Coro<> count_cancel(int* num, int ms) {
    try {
        co_await sleep_ms(ms);
    } catch (const CancelledError&) {
        ++*num;
        throw;
    }
}

/// Awaits `t`, expecting `E`; returns the ExceptionGroup's error types when E is one.
template <class E>
Coro<bool> raises(Task<> t) {
    try {
        co_await t;
    } catch (const E&) {
        co_return true;
    } catch (...) {
    }
    co_return false;
}

}  // namespace

TEST_F(CPythonTaskGroups, test_taskgroup_01) {
    auto main = []() -> Coro<> {
        Task<int> t1, t2;
        co_await task_group([&](TaskGroup& g) -> Coro<> {
            t1 = g.create_task(sleep_then(1, 42));
            t2 = g.create_task(sleep_then(2, 11));
            co_return;
        });
        EXPECT_EQ(co_await t1, 42);
        EXPECT_EQ(co_await t2, 11);
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_02) {
    auto main = []() -> Coro<> {
        Task<int> t1, t2;
        co_await task_group([&](TaskGroup& g) -> Coro<> {
            t1 = g.create_task(sleep_then(2, 42));
            co_await sleep_ms(3);
            t2 = g.create_task(sleep_then(4, 11));
        });
        EXPECT_EQ(co_await t1, 42);
        EXPECT_EQ(co_await t2, 11);
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_03) {
    auto main = []() -> Coro<> {
        Task<int> t1, t2;
        co_await task_group([&](TaskGroup& g) -> Coro<> {
            t1 = g.create_task(sleep_then(10'000, 42));
            co_await sleep_ms(2);
            t1.cancel();  // cancelled explicitly: everything else goes on
            t2 = g.create_task(sleep_then(4, 11));
        });
        EXPECT_THROW(co_await t1, CancelledError);
        EXPECT_EQ(co_await t2, 11);
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_04) {
    auto main = []() -> Coro<> {
        int num = 0;
        bool t2_cancel = false;
        Task<> t2;
        auto foo2 = [](int* num, bool* cancelled) -> Coro<> {
            try {
                co_await sleep_ms(10'000);
            } catch (const CancelledError&) {
                *cancelled = true;
                throw;
            }
            ++*num;
        };
        auto runner = [&]() -> Coro<> {
            co_await task_group([&](TaskGroup& g) -> Coro<> {
                g.create_task(divide_by_zero_after(1));
                t2 = g.create_task(foo2(&num, &t2_cancel));
                co_return;
            });
            num += 10;
        };
        try {
            co_await create_task(runner());
            ADD_FAILURE() << "expected ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(std::domain_error)});
        }
        EXPECT_EQ(num, 0);
        EXPECT_TRUE(t2_cancel);
        EXPECT_TRUE(co_await raises<CancelledError>(t2));
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_cancel_children_on_child_error) {
    auto main = []() -> Coro<> {
        int num = 0;
        int t2_cancel = 0;
        bool runner_cancel = false;
        auto runner = [&]() -> Coro<> {
            co_await task_group([&](TaskGroup& g) -> Coro<> {
                g.create_task(divide_by_zero_after(1));
                g.create_task(divide_by_zero_after(1));
                g.create_task(divide_by_zero_after(1));
                g.create_task(count_cancel(&t2_cancel, 5'000));
                try {
                    co_await sleep_ms(10'000);
                } catch (const CancelledError&) {
                    runner_cancel = true;
                    throw;
                }
            });
            num += 10;
        };
        try {
            co_await create_task(runner());
            ADD_FAILURE() << "expected ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(std::domain_error)});
        }
        EXPECT_EQ(num, 0);
        EXPECT_EQ(t2_cancel, 1);
        EXPECT_TRUE(runner_cancel);
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_cancellation) {
    auto main = []() -> Coro<> {
        int num = 0;
        auto runner = [&]() -> Coro<> {
            co_await task_group([&](TaskGroup& g) -> Coro<> {
                for (int i = 0; i < 5; ++i) g.create_task(count_cancel(&num, 5'000));
                co_return;
            });
        };
        Task<> r = create_task(runner());
        co_await sleep_ms(1);
        EXPECT_FALSE(r.done());
        r.cancel();
        EXPECT_TRUE(co_await raises<CancelledError>(r));
        EXPECT_EQ(num, 5);
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_07) {
    auto main = []() -> Coro<> {
        int num = 0;
        auto runner = [&]() -> Coro<> {
            co_await task_group([&](TaskGroup& g) -> Coro<> {
                for (int i = 0; i < 5; ++i) g.create_task(count_cancel(&num, 5'000));
                try {
                    co_await sleep_ms(10'000);
                } catch (const CancelledError&) {
                    num += 10;
                    throw;
                }
            });
        };
        Task<> r = create_task(runner());
        co_await sleep_ms(1);
        EXPECT_FALSE(r.done());
        r.cancel();
        EXPECT_TRUE(co_await raises<CancelledError>(r));
        EXPECT_EQ(num, 15);
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_cancellation_in_body) {
    auto main = []() -> Coro<> {
        auto runner = []() -> Coro<> {
            co_await task_group([](TaskGroup& g) -> Coro<> {
                for (int i = 0; i < 5; ++i) g.create_task(divide_by_zero_after(50));
                co_await sleep_ms(10'000);
            });
        };
        Task<> r = create_task(runner());
        co_await sleep_ms(1);
        EXPECT_FALSE(r.done());
        r.cancel();
        EXPECT_TRUE(co_await raises<CancelledError>(r));
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_09) {
    auto main = []() -> Coro<> {
        Task<int> t1, t2;
        try {
            co_await task_group([&](TaskGroup& g) -> Coro<> {
                t1 = g.create_task(sleep_then(1'000, 42));
                t2 = g.create_task(sleep_then(2'000, 11));
                co_await sleep_ms(1);
                throw std::domain_error("division by zero");
            });
            ADD_FAILURE() << "ExceptionGroup was not raised";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(std::domain_error)});
        }
        EXPECT_TRUE(co_await raises<CancelledError>(t1));
        EXPECT_TRUE(co_await raises<CancelledError>(t2));
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_10) {
    auto main = []() -> Coro<> {
        Task<int> t1, t2;
        try {
            co_await task_group([&](TaskGroup& g) -> Coro<> {
                t1 = g.create_task(sleep_then(1'000, 42));
                t2 = g.create_task(sleep_then(2'000, 11));
                throw std::domain_error("division by zero");
                co_return;
            });
            ADD_FAILURE() << "ExceptionGroup was not raised";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(std::domain_error)});
        }
        EXPECT_TRUE(co_await raises<CancelledError>(t1));
        EXPECT_TRUE(co_await raises<CancelledError>(t2));
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_11) {
    auto main = []() -> Coro<> {
        auto runner = []() -> Coro<> {
            co_await task_group([](TaskGroup&) -> Coro<> {
                co_await task_group([](TaskGroup& g2) -> Coro<> {
                    for (int i = 0; i < 5; ++i) g2.create_task(divide_by_zero_after(50));
                    co_await sleep_ms(10'000);
                });
            });
        };
        Task<> r = create_task(runner());
        co_await sleep_ms(1);
        EXPECT_FALSE(r.done());
        r.cancel();
        EXPECT_TRUE(co_await raises<CancelledError>(r));
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_12) {
    auto main = []() -> Coro<> {
        auto runner = []() -> Coro<> {
            co_await task_group([](TaskGroup& g1) -> Coro<> {
                g1.create_task(sleep_then(10'000, 0));
                co_await task_group([](TaskGroup& g2) -> Coro<> {
                    for (int i = 0; i < 5; ++i) g2.create_task(divide_by_zero_after(50));
                    co_await sleep_ms(10'000);
                });
            });
        };
        Task<> r = create_task(runner());
        co_await sleep_ms(1);
        EXPECT_FALSE(r.done());
        r.cancel();
        EXPECT_TRUE(co_await raises<CancelledError>(r));
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_13) {
    auto main = []() -> Coro<> {
        auto runner = []() -> Coro<> {
            co_await task_group([](TaskGroup& g1) -> Coro<> {
                g1.create_task(value_error_after(1));
                co_await task_group([](TaskGroup& g2) -> Coro<> {
                    g2.create_task(value_error_after(10'000));
                    co_return;
                });
            });
        };
        try {
            co_await create_task(runner());
            ADD_FAILURE() << "expected ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(std::invalid_argument)});
        }
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_14) {
    auto main = []() -> Coro<> {
        auto runner = []() -> Coro<> {
            co_await task_group([](TaskGroup& g1) -> Coro<> {
                g1.create_task(value_error_after(10'000));
                co_await task_group([](TaskGroup& g2) -> Coro<> {
                    g2.create_task(value_error_after(1));
                    co_return;
                });
            });
        };
        try {
            co_await create_task(runner());
            ADD_FAILURE() << "expected ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(ExceptionGroup)});
            try {
                std::rethrow_exception(eg.exceptions().at(0));
            } catch (const ExceptionGroup& inner) {
                EXPECT_EQ(error_types(inner), Types{typeid(std::invalid_argument)});
            }
        }
    };
    run(main());
}

// CPython 3.11's version of tests 15 and 16 expected CancelledError; since 3.12 the child's
// failure takes priority over the cancel (taskgroups.py: "errors have priority") and they
// expect the ExceptionGroup, as here.
TEST_F(CPythonTaskGroups, test_taskgroup_15) {
    auto main = []() -> Coro<> {
        auto runner = []() -> Coro<> {
            co_await task_group([](TaskGroup& g1) -> Coro<> {
                g1.create_task(divide_by_zero_after(20));
                bool cancelled = false;
                try {
                    co_await sleep_ms(10'000);
                } catch (const CancelledError&) {
                    cancelled = true;
                }
                if (cancelled) {
                    co_await sleep_ms(50);
                    throw CancelledError{};
                }
            });
        };
        Task<> r = create_task(runner());
        co_await sleep_ms(1);
        EXPECT_FALSE(r.done());
        r.cancel();
        try {
            co_await r;
            ADD_FAILURE() << "expected ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(std::domain_error)});
        }
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_16) {
    auto main = []() -> Coro<> {
        auto nested_runner = []() -> Coro<> {
            co_await task_group([](TaskGroup& g1) -> Coro<> {
                g1.create_task(divide_by_zero_after(20));
                bool cancelled = false;
                try {
                    co_await sleep_ms(10'000);
                } catch (const CancelledError&) {
                    cancelled = true;
                }
                if (cancelled) {
                    co_await sleep_ms(50);
                    throw CancelledError{};
                }
            });
        };
        auto runner = [](decltype(nested_runner) n) -> Coro<> {
            Task<> t = create_task(n());
            co_await t;
        };
        Task<> r = create_task(runner(nested_runner));
        co_await sleep_ms(1);
        EXPECT_FALSE(r.done());
        r.cancel();
        try {
            co_await r;
            ADD_FAILURE() << "expected ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(std::domain_error)});
        }
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_17) {
    auto main = []() -> Coro<> {
        int num = 0;
        auto runner = [&]() -> Coro<> {
            co_await task_group([&](TaskGroup&) -> Coro<> {
                try {
                    co_await sleep_ms(10'000);
                } catch (const CancelledError&) {
                    num += 10;
                    throw;
                }
            });
        };
        Task<> r = create_task(runner());
        co_await sleep_ms(1);
        EXPECT_FALSE(r.done());
        r.cancel();
        EXPECT_TRUE(co_await raises<CancelledError>(r));
        EXPECT_EQ(num, 10);
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_18) {
    auto main = []() -> Coro<> {
        int num = 0;
        auto runner = [&]() -> Coro<> {
            co_await task_group([&](TaskGroup&) -> Coro<> {
                try {
                    co_await sleep_ms(10'000);
                } catch (const CancelledError&) {
                    num += 10;
                    throw std::logic_error("MyExc");  // not a good idea, but supported
                }
            });
        };
        Task<> r = create_task(runner());
        co_await sleep_ms(1);
        EXPECT_FALSE(r.done());
        r.cancel();
        try {
            co_await r;
            ADD_FAILURE() << "ExceptionGroup was not raised";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(std::logic_error)});
        }
        EXPECT_EQ(num, 10);
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_19) {
    auto main = []() -> Coro<> {
        auto nested = []() -> Coro<> {
            try {
                co_await sleep_ms(10'000);
            } catch (...) {
            }
            throw std::logic_error("MyExc");  // Python's `finally: raise MyExc`
        };
        auto runner = [](decltype(nested) n) -> Coro<> {
            co_await task_group([n](TaskGroup& g) -> Coro<> {
                g.create_task(divide_by_zero_after(1));
                co_await n();
            });
        };
        try {
            co_await create_task(runner(nested));
            ADD_FAILURE() << "ExceptionGroup was not raised";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), (Types{typeid(std::logic_error), typeid(std::domain_error)}));
        }
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_22) {
    auto main = []() -> Coro<> {
        auto runner = []() -> Coro<> {
            co_await task_group([](TaskGroup& g) -> Coro<> {
                g.create_task(sleep_then(1'000, 42));
                g.create_task(sleep_then(2'000, 11));
                co_return;
            });
        };
        Task<> r = create_task(runner());
        co_await sleep_ms(1);
        r.cancel();
        EXPECT_TRUE(co_await raises<CancelledError>(r));
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_24) {
    auto main = []() -> Coro<> {
        int finished = 0;
        auto coro1 = [](int* f, int ms) -> Coro<> {
            co_await sleep_ms(ms);
            ++*f;
        };
        auto root = [&](TaskGroup& g) -> Coro<> {
            co_await sleep_ms(1);
            g.create_task(coro1(&finished, 1));
            g.create_task(coro1(&finished, 2));
        };
        co_await task_group([&](TaskGroup& g) -> Coro<> {
            g.create_task(root(g));
            co_return;
        });
        EXPECT_EQ(finished, 2);
    };
    run(main());
}

TEST_F(CPythonTaskGroups, test_taskgroup_25) {
    auto main = []() -> Coro<> {
        int nhydras = 0;
        struct Hydra {
            static Coro<> grow(int* n, TaskGroup& g) {
                ++*n;
                co_await sleep_ms(1);
                if (*n > 100'000) co_return;  // a cap (hercules stops them at 10); also tells
                g.create_task(grow(n, g));   // clang 14 this is no infinite recursion
                g.create_task(grow(n, g));
            }
        };
        auto hercules = [](int* n) -> Coro<> {
            while (*n < 10) co_await sleep_ms(1);
            throw std::domain_error("division by zero");
        };
        try {
            co_await task_group([&](TaskGroup& g) -> Coro<> {
                g.create_task(Hydra::grow(&nhydras, g));
                g.create_task(hercules(&nhydras));
                co_return;
            });
            ADD_FAILURE() << "expected ExceptionGroup";
        } catch (const ExceptionGroup& eg) {
            EXPECT_EQ(error_types(eg), Types{typeid(std::domain_error)});
        }
        EXPECT_GE(nhydras, 10);
    };
    run(main());
}
