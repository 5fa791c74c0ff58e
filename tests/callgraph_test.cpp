// The call graph (callgraph.hpp): format_call_graph, format_all_tasks and the dump on a signal,
// as CPython 3.14's asyncio.format_call_graph and `python -m asyncio pstree`.
//
// Locations: with std::source_location (g++) every frame names its coroutine's signature and
// the file:line of its co_await; clang 14 gives the bare function name and file:line through
// its builtins. frame_is() accepts exactly these two forms.
#include <asyncio/asyncio.hpp>

#include <unistd.h>

#include <csignal>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/test_loop.hpp"

using namespace asyncio;
using CallGraphTest = asyncio::testing::LoopTest;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

// "<indent>* Task(name='NAME', id=0x..., state=STATE)"
::testing::AssertionResult task_is(const std::string& line, int level, const std::string& name,
                                   const std::string& state) {
    std::string indent(static_cast<std::size_t>(level) * 3, ' ');
    std::string head = indent + "* Task(name='" + name + "', id=0x";
    std::string tail = ", state=" + state + ")";
    if (line.rfind(head, 0) == 0 && line.size() > head.size() + tail.size() &&
        line.compare(line.size() - tail.size(), tail.size(), tail) == 0) {
        return ::testing::AssertionSuccess();
    }
    return ::testing::AssertionFailure() << "line [" << line << "] is not task " << name << " " << state;
}

// "<indent>|   File '.../callgraph_test.cpp', line LINE, in FUNCTION", where FUNCTION is the
// signature containing "name(" (source_location) or exactly `name` (clang 14's builtin).
// line 0: a frame that has not reached a co_await yet (no line shown).
::testing::AssertionResult frame_is(const std::string& line, int level, const std::string& name, int at) {
    std::string indent(static_cast<std::size_t>(level) * 3, ' ');
    std::string head = indent + "|   File '";
    std::string where = "callgraph_test.cpp'" + (at != 0 ? ", line " + std::to_string(at) : std::string()) + ", in ";
    auto fail = [&] { return ::testing::AssertionFailure() << "line [" << line << "] is not " << name << ":" << at; };
    if (line.rfind(head, 0) != 0) return fail();
    std::size_t w = line.find(where);
    if (w == std::string::npos) return fail();
    std::string function = line.substr(w + where.size());
#if ASYNCIO_HAS_SOURCE_LOCATION
    if (function.find(name + "(") == std::string::npos) return fail();
#else
    if (function != name) return fail();
#endif
    return ::testing::AssertionSuccess();
}

// Each k...Line constant names the line of the co_await two lines above it.

Coro<> leaf(Event* ev) {
    co_await ev->wait();
}
constexpr int kLeafLine = __LINE__ - 2;

Coro<> middle(Event* ev) {
    co_await leaf(ev);
}
constexpr int kMiddleLine = __LINE__ - 2;

Coro<> outer(Event* ev) {
    co_await sleep(0);
    co_await middle(ev);
}
constexpr int kOuterLine = __LINE__ - 2;

Coro<> await_task(Task<> t) {
    co_await t;
}
constexpr int kAwaitTaskLine = __LINE__ - 2;

Coro<> gather_two(Event* ev) {
    co_await gather(leaf(ev), leaf(ev));
}
constexpr int kGatherLine = __LINE__ - 2;

Coro<> wait_for_leaf(Event* ev) {
    co_await wait_for(leaf(ev), 3600.0);
}
constexpr int kWaitForLine = __LINE__ - 2;

Coro<> group_of_two(Event* ev) {
    auto body = [ev](TaskGroup& tg) -> Coro<> {
        tg.create_task(leaf(ev)).set_name("child-1");
        tg.create_task(leaf(ev)).set_name("child-2");
        co_await ev->wait();
    };
    co_await task_group(body);
}
constexpr int kGroupLine = __LINE__ - 2;
constexpr int kGroupBodyLine = __LINE__ - 5;

Coro<> return_at_once() { co_return; }

Coro<> fail_at_once() {
    co_await sleep(0);
    throw std::runtime_error("boom");
}

// The graphs of the tasks other than `skip` and the running one (gather's and wait_for's
// unnamed children).
std::vector<std::string> graphs_of_others(const Task<>& skip) {
    std::vector<std::string> graphs;
    for (Task<> t : all_tasks()) {
        if (t != skip && t != current_task()) graphs.push_back(format_call_graph(t));
    }
    return graphs;
}

Task<> find_task(const std::string& name) {
    for (Task<> t : all_tasks()) {
        if (t.get_name() == name) return t;
    }
    throw std::logic_error("no task " + name);
}

}  // namespace

// Assertions run after run() returns: gtest's ASSERT_* cannot be used inside a coroutine.

TEST_F(CallGraphTest, ASuspendedTaskShowsItsCoroutinesInnermostFirstWithLines) {
    std::string graph;
    auto main = [&]() -> Coro<> {
        Event ev;
        Task<> t = create_task(outer(&ev), "chain");
        co_await sleep(0);  // t runs to outer's sleep(0)
        co_await sleep(0);  // ... and on into leaf's wait
        graph = format_call_graph(t);
        ev.set();
        co_await t;
    };
    run(main());
    std::vector<std::string> lines = lines_of(graph);
    ASSERT_EQ(lines.size(), 5u) << graph;
    EXPECT_TRUE(task_is(lines[0], 0, "chain", "waiting"));
    EXPECT_EQ(lines[1], "+ Call stack:");
    EXPECT_TRUE(frame_is(lines[2], 0, "leaf", kLeafLine));
    EXPECT_TRUE(frame_is(lines[3], 0, "middle", kMiddleLine));
    EXPECT_TRUE(frame_is(lines[4], 0, "outer", kOuterLine));
}

TEST_F(CallGraphTest, AFrameShowsTheCoAwaitItIsAtNowAndAFinishedTaskNoStack) {
    std::string at_first, at_second, finished;
    auto main = [&]() -> Coro<> {
        Event ev;
        Task<> t = create_task(outer(&ev), "chain");
        co_await sleep(0);  // t is at outer's first co_await (sleep(0)): no inner frame yet
        at_first = format_call_graph(t);
        co_await sleep(0);
        at_second = format_call_graph(t);
        ev.set();
        co_await t;
        finished = format_call_graph(t);
    };
    run(main());
    std::vector<std::string> lines = lines_of(at_first);
    ASSERT_EQ(lines.size(), 3u) << at_first;
    EXPECT_TRUE(task_is(lines[0], 0, "chain", "ready"));
    EXPECT_TRUE(frame_is(lines[2], 0, "outer", kOuterLine - 1));
    lines = lines_of(at_second);
    ASSERT_EQ(lines.size(), 5u) << at_second;
    EXPECT_TRUE(frame_is(lines[4], 0, "outer", kOuterLine));
    lines = lines_of(finished);
    ASSERT_EQ(lines.size(), 1u) << finished;
    EXPECT_TRUE(task_is(lines[0], 0, "chain", "done"));
}

TEST_F(CallGraphTest, ATaskNotStartedShowsItsFunctionWithoutALine) {
    std::string before, cancelled;
    auto main = [&]() -> Coro<> {
        Event ev;
        Task<> t = create_task(leaf(&ev), "later");
        before = format_call_graph(t);
        t.cancel();
        co_await sleep(0);
        cancelled = format_call_graph(t);
    };
    run(main());
    std::vector<std::string> lines = lines_of(before);
    ASSERT_EQ(lines.size(), 3u) << before;
    EXPECT_TRUE(task_is(lines[0], 0, "later", "not started"));
    EXPECT_TRUE(frame_is(lines[2], 0, "leaf", 0));
    lines = lines_of(cancelled);
    ASSERT_EQ(lines.size(), 1u) << cancelled;
    EXPECT_TRUE(task_is(lines[0], 0, "later", "cancelled"));
}

TEST_F(CallGraphTest, FinishedTasksShowTheirOutcome) {
    std::string ok_graph, bad_graph;
    auto main = [&]() -> Coro<> {
        Task<> ok = create_task(return_at_once(), "ok");
        Task<> bad = create_task(fail_at_once(), "bad");
        co_await ok;
        try {
            co_await bad;
        } catch (const std::runtime_error&) {
        }
        ok_graph = format_call_graph(ok);
        bad_graph = format_call_graph(bad);
    };
    run(main());
    ASSERT_EQ(lines_of(ok_graph).size(), 1u) << ok_graph;
    EXPECT_TRUE(task_is(lines_of(ok_graph)[0], 0, "ok", "done"));
    ASSERT_EQ(lines_of(bad_graph).size(), 1u) << bad_graph;
    EXPECT_TRUE(task_is(lines_of(bad_graph)[0], 0, "bad", "failed"));
}

TEST_F(CallGraphTest, WithoutArgumentItIsTheRunningTask) {
    std::string graph, name;
    auto main = [&]() -> Coro<> {
        co_await sleep(0);
        graph = format_call_graph();
        name = current_task().get_name();
        print_call_graph();  // the same, to stderr
    };
    run(main());
    ASSERT_FALSE(lines_of(graph).empty());
    EXPECT_TRUE(task_is(lines_of(graph)[0], 0, name, "running"));
    EXPECT_THROW(format_call_graph(), RuntimeError);          // no running task
    EXPECT_THROW(format_call_graph(Task<>()), RuntimeError);  // empty handle
}

TEST_F(CallGraphTest, ATaskAwaitedByAnotherShowsItUnderAwaitedBy) {
    std::string graph;
    auto main = [&]() -> Coro<> {
        Event ev;
        Task<> inner = create_task(leaf(&ev), "inner");
        Task<> waiter = create_task(await_task(inner), "waiter");
        co_await sleep(0);
        graph = format_call_graph(inner);
        ev.set();
        co_await waiter;
    };
    run(main());
    std::vector<std::string> lines = lines_of(graph);
    ASSERT_EQ(lines.size(), 7u) << graph;
    EXPECT_TRUE(task_is(lines[0], 0, "inner", "waiting"));
    EXPECT_EQ(lines[1], "+ Call stack:");
    EXPECT_TRUE(frame_is(lines[2], 0, "leaf", kLeafLine));
    EXPECT_EQ(lines[3], "+ Awaited by:");
    EXPECT_TRUE(task_is(lines[4], 1, "waiter", "awaiting a task"));
    EXPECT_EQ(lines[5], "   + Call stack:");
    EXPECT_TRUE(frame_is(lines[6], 1, "await_task", kAwaitTaskLine));
}

TEST_F(CallGraphTest, GatheredTasksAreAwaitedByTheTaskInGather) {
    std::vector<std::string> graphs;
    auto main = [&]() -> Coro<> {
        Event ev;
        Task<> parent = create_task(gather_two(&ev), "parent");
        co_await sleep(0);  // parent starts the gather: two children
        co_await sleep(0);  // the children reach leaf's wait
        graphs = graphs_of_others(parent);
        ev.set();
        co_await parent;
    };
    run(main());
    ASSERT_EQ(graphs.size(), 2u);
    for (const std::string& graph : graphs) {
        std::vector<std::string> lines = lines_of(graph);
        ASSERT_GE(lines.size(), 8u) << graph;
        EXPECT_TRUE(frame_is(lines[2], 0, "leaf", kLeafLine));
        EXPECT_EQ(lines[3], "+ Awaited by:");
        EXPECT_TRUE(task_is(lines[4], 1, "parent", "waiting"));
        // The parent's stack: gather's own frames first, the parent's function last.
        EXPECT_NE(lines[6].find("gather"), std::string::npos) << graph;
        EXPECT_TRUE(frame_is(lines.back(), 1, "gather_two", kGatherLine));
    }
}

TEST_F(CallGraphTest, TheTaskOfWaitForIsAwaitedByTheTaskInWaitFor) {
    std::vector<std::string> graphs;
    auto main = [&]() -> Coro<> {
        Event ev;
        Task<> parent = create_task(wait_for_leaf(&ev), "parent");
        co_await sleep(0);
        co_await sleep(0);
        graphs = graphs_of_others(parent);
        ev.set();
        co_await parent;
    };
    run(main());
    ASSERT_EQ(graphs.size(), 1u);
    std::vector<std::string> lines = lines_of(graphs[0]);
    ASSERT_GE(lines.size(), 8u) << graphs[0];
    EXPECT_TRUE(frame_is(lines[2], 0, "leaf", kLeafLine));
    EXPECT_EQ(lines[3], "+ Awaited by:");
    EXPECT_TRUE(task_is(lines[4], 1, "parent", "sleeping"));
    EXPECT_NE(lines[6].find("wait_for"), std::string::npos) << graphs[0];
    EXPECT_TRUE(frame_is(lines.back(), 1, "wait_for_leaf", kWaitForLine));
}

TEST_F(CallGraphTest, AllTasksShowTaskGroupChildrenUnderTheirParent) {
    std::string all, from_child, main_name;
    auto main = [&]() -> Coro<> {
        Event ev;
        Task<> parent = create_task(group_of_two(&ev), "parent");
        co_await sleep(0);
        co_await sleep(0);
        all = format_all_tasks();
        from_child = format_call_graph(find_task("child-2"));
        main_name = current_task().get_name();
        ev.set();
        co_await parent;
    };
    run(main());
    // Roots, oldest first: this test's main task, then the group's parent with its two
    // children one level down under "+ Awaits:".
    std::vector<std::string> lines = lines_of(all);
    ASSERT_FALSE(lines.empty());
    EXPECT_TRUE(task_is(lines[0], 0, main_name, "running"));
    std::size_t p = 0;
    while (p < lines.size() && !task_is(lines[p], 0, "parent", "waiting")) ++p;
    ASSERT_LT(p, lines.size()) << all;
    std::vector<std::string> tail(lines.begin() + static_cast<long>(p), lines.end());
    EXPECT_EQ(tail[1], "+ Call stack:");
    std::size_t awaits = 2;
    while (awaits < tail.size() && tail[awaits] != "+ Awaits:") ++awaits;
    ASSERT_LT(awaits, tail.size()) << all;
    // The body (running inline in the parent), task_group's frame, the parent's function.
    ASSERT_EQ(awaits, 5u) << all;
    EXPECT_NE(tail[2].find(", line " + std::to_string(kGroupBodyLine) + ", in "), std::string::npos) << all;
    EXPECT_NE(tail[3].find("task_group"), std::string::npos) << all;
    EXPECT_TRUE(frame_is(tail[4], 0, "group_of_two", kGroupLine));
    ASSERT_EQ(tail.size(), awaits + 7) << all;
    EXPECT_TRUE(task_is(tail[awaits + 1], 1, "child-1", "waiting"));
    EXPECT_EQ(tail[awaits + 2], "   + Call stack:");
    EXPECT_TRUE(frame_is(tail[awaits + 3], 1, "leaf", kLeafLine));
    EXPECT_TRUE(task_is(tail[awaits + 4], 1, "child-2", "waiting"));
    EXPECT_TRUE(frame_is(tail[awaits + 6], 1, "leaf", kLeafLine));
    // Seen from a child, the group's parent awaits it.
    lines = lines_of(from_child);
    ASSERT_GE(lines.size(), 5u) << from_child;
    EXPECT_EQ(lines[3], "+ Awaited by:");
    EXPECT_TRUE(task_is(lines[4], 1, "parent", "waiting"));
}

// The dump is read back through a pipe put in place of stderr (fd 2) for the test.
TEST_F(CallGraphTest, SignalDumpWritesEveryTaskToStderrAndTheProgramGoesOn) {
    int p[2];
    ASSERT_EQ(::pipe(p), 0);
    int saved_stderr = ::dup(2);
    ASSERT_GE(saved_stderr, 0);
    ASSERT_GE(::dup2(p[1], 2), 0);
    ::close(p[1]);
    std::vector<std::string> firsts;
    std::vector<std::vector<std::string>> stuck_blocks;  // "stuck"'s header and 4 lines after
    auto main = [&](int read_end) -> Coro<> {
        Stream dump = open_fd(read_end);
        Event ev;
        Task<> stuck = create_task(outer(&ev), "stuck");
        enable_dump_on_signal(SIGQUIT);
        co_await sleep(0);
        co_await sleep(0);
        for (int round = 0; round < 2; ++round) {  // twice: the first dump stopped nothing
            std::raise(SIGQUIT);
            std::string first = co_await wait_for(dump.readline(), 10.0);
            firsts.push_back(first);
            std::vector<std::string> block;
            for (int n = 0; n < 200 && (block.empty() || !task_is(block[0], 0, "stuck", "waiting")); ++n) {
                std::string line = co_await wait_for(dump.readline(), 10.0);
                block.assign(1, line.substr(0, line.size() - 1));
            }
            for (int i = 0; i < 4; ++i) {
                std::string line = co_await wait_for(dump.readline(), 10.0);
                block.push_back(line.substr(0, line.size() - 1));
            }
            stuck_blocks.push_back(block);
        }
        get_event_loop().remove_signal_handler(SIGQUIT);
        ev.set();
        co_await stuck;
    };
    run(main(p[0]));
    ::dup2(saved_stderr, 2);
    ::close(saved_stderr);
    ASSERT_EQ(firsts.size(), 2u);
    ASSERT_EQ(stuck_blocks.size(), 2u);
    for (int round = 0; round < 2; ++round) {
        EXPECT_EQ(firsts[round], "asyncio: every task of the loop, innermost frame first\n");
        const std::vector<std::string>& block = stuck_blocks[round];
        ASSERT_EQ(block.size(), 5u);
        EXPECT_TRUE(task_is(block[0], 0, "stuck", "waiting"));
        EXPECT_EQ(block[1], "+ Call stack:");
        EXPECT_TRUE(frame_is(block[2], 0, "leaf", kLeafLine));
        EXPECT_TRUE(frame_is(block[3], 0, "middle", kMiddleLine));
        EXPECT_TRUE(frame_is(block[4], 0, "outer", kOuterLine));
    }
}
