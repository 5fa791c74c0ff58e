// Task introspection (task.hpp, introspect.hpp): names, cancelled(), result(), exception(),
// all_tasks().
#include <asyncio/asyncio.hpp>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

// Unity builds compile several test files as one: this file's names stay in its namespace.
namespace introspect_test {

using namespace asyncio;
using IntrospectTest = asyncio::testing::LoopTest;

namespace {

Coro<int> value_after(int ms, int v) {
    co_await sleep_ms(ms);
    co_return v;
}

Coro<int> fail_now() {
    co_await sleep(0);
    throw std::runtime_error("boom");
}

Coro<> forever() { co_await sleep(1e9); }

int task_number(const std::string& name) {
    EXPECT_EQ(name.rfind("Task-", 0), 0u) << name;
    return std::stoi(name.substr(5));
}

}  // namespace

TEST_F(IntrospectTest, UnnamedTasksAreNumberedInCreationOrder) {
    auto main = []() -> Coro<> {
        Task<int> a = create_task(value_after(0, 1));
        Task<int> b = create_task(value_after(0, 2));
        EXPECT_EQ(task_number(b.get_name()), task_number(a.get_name()) + 1);
        co_await a;
        co_await b;
    };
    run(main());
}

TEST_F(IntrospectTest, ANameGivenAtCreationOrBySetNameIsKept) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(value_after(0, 1), "fetcher");
        EXPECT_EQ(t.get_name(), "fetcher");
        t.set_name("renamed");
        EXPECT_EQ(t.get_name(), "renamed");
        Task<int> u = get_event_loop().create_task(value_after(0, 2), "");
        EXPECT_EQ(u.get_name(), "");
        co_await t;
        EXPECT_EQ(t.get_name(), "renamed");  // a finished task keeps its name
        co_await u;
    };
    run(main());
}

TEST_F(IntrospectTest, TheCurrentTaskSeesItsOwnName) {
    auto body = []() -> Coro<std::string> { co_return current_task().get_name(); };
    auto main = [&]() -> Coro<> {
        Task<std::string> t = create_task(body(), "worker");
        EXPECT_EQ(co_await t, "worker");
    };
    run(main());
}

TEST_F(IntrospectTest, ResultAndExceptionOfAnUnfinishedTaskRaiseInvalidStateError) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(value_after(1, 7));
        try {
            (void)t.result();
            ADD_FAILURE() << "result() of a pending task returned";
        } catch (const InvalidStateError& e) {
            EXPECT_STREQ(e.what(), "Result is not set.");
        }
        try {
            (void)t.exception();
            ADD_FAILURE() << "exception() of a pending task returned";
        } catch (const InvalidStateError& e) {
            EXPECT_STREQ(e.what(), "Exception is not set.");
        }
        EXPECT_FALSE(t.cancelled());
        co_await t;
    };
    run(main());
}

TEST_F(IntrospectTest, AFinishedTaskGivesItsValueAndANullException) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(value_after(0, 42));
        co_await Task<>(t);
        EXPECT_EQ(t.result(), 42);
        EXPECT_EQ(t.result(), 42);  // as often as asked
        EXPECT_EQ(t.exception(), nullptr);
        EXPECT_FALSE(t.cancelled());
        Task<> erased = t;
        EXPECT_NO_THROW(erased.result());
    };
    run(main());
}

TEST_F(IntrospectTest, AFailedTaskRethrowsFromResultAndGivesItsException) {
    auto main = []() -> Coro<> {
        Task<int> t = create_task(fail_now());
        co_await sleep(0);
        co_await sleep(0);
        EXPECT_TRUE(t.done());
        EXPECT_THROW((void)t.result(), std::runtime_error);
        std::exception_ptr e = t.exception();
        EXPECT_NE(e, nullptr);
        try {
            std::rethrow_exception(e);
        } catch (const std::runtime_error& err) {
            EXPECT_STREQ(err.what(), "boom");
        }
        EXPECT_FALSE(t.cancelled());
    };
    int reports = 0;
    get_event_loop().set_exception_handler([&](Loop&, const ExceptionContext&) { ++reports; });
    run(main());
    run(LoopTest::settle());
    EXPECT_EQ(reports, 0) << "exception() retrieves the outcome: no report";
}

TEST_F(IntrospectTest, ACancelledTaskIsCancelledAndRaisesCancelledErrorFromBoth) {
    auto main = []() -> Coro<> {
        Task<> t = create_task(forever());
        co_await sleep(0);
        EXPECT_TRUE(t.cancel());
        EXPECT_FALSE(t.cancelled()) << "not finished yet";
        co_await sleep(0);
        EXPECT_TRUE(t.done());
        EXPECT_TRUE(t.cancelled());
        EXPECT_THROW(t.result(), CancelledError);
        EXPECT_THROW((void)t.exception(), CancelledError);
    };
    run(main());
}

TEST_F(IntrospectTest, AllTasksListsTheUnfinishedTasksOldestFirstWithTheMainTask) {
    auto main = []() -> Coro<> {
        Task<> me = current_task();
        Task<> a = create_task(forever(), "a");
        Task<int> b = create_task(value_after(0, 1), "b");
        std::vector<Task<>> all = all_tasks();
        EXPECT_EQ(all, (std::vector<Task<>>{me, a, b}));
        co_await b;
        all = all_tasks();
        EXPECT_EQ(all, (std::vector<Task<>>{me, a}));
        a.cancel();
        co_await sleep(0);
        EXPECT_EQ(all_tasks(), std::vector<Task<>>{me});
    };
    run(main());
    EXPECT_TRUE(all_tasks().empty());
}

TEST_F(IntrospectTest, AllTasksBeforeTheLoopRunsGivesTheQueuedTasks) {
    Task<int> t = create_task(value_after(0, 3));
    EXPECT_EQ(all_tasks(), std::vector<Task<>>{t});
    EXPECT_EQ(get_event_loop().run_until_complete(t), 3);
    EXPECT_TRUE(all_tasks().empty());
}

}  // namespace introspect_test
