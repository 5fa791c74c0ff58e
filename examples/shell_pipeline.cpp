// shell_pipeline: word frequencies with `sort | uniq -c | sort -rn`, three ways.
//
//   shell_pipeline [--words N]      (default: 2000 words of generated text)
//
// 1. One child per stage, chained by the program: each stage's output is the next stage's
//    input, passed through pipes with communicate() (which feeds stdin while it reads stdout
//    and stderr, so a stage with a large output never blocks on a full pipe).
// 2. The same pipeline handed to /bin/sh with create_subprocess_shell.
// 3. Three children running at once, streaming: this program writes words into `sort`'s stdin
//    while one task copies sort's output into `uniq -c` and `uniq`'s into `sort -rn`, whose
//    lines are read one by one as they come.
// Then: a program that cannot start (std::system_error, ENOENT) and a child killed by a
// signal (negative returncode).
#include <asyncio/asyncio.hpp>

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace {

std::string make_text(int words) {
    static const char* const kWords[] = {"loop", "task", "pipe", "child", "signal", "stream", "event", "queue"};
    std::string text;
    unsigned seed = 42;
    for (int i = 0; i < words; ++i) {
        seed = seed * 1103515245u + 12345u;
        // A skewed choice so the counts differ: lower indexes come up more often.
        unsigned r = (seed >> 16) % 64;
        unsigned k = r < 24 ? 0 : r < 40 ? 1 : r < 50 ? 2 : r < 56 ? 3 : r < 60 ? 4 : r < 62 ? 5 : r < 63 ? 6 : 7;
        text += kWords[k];
        text += '\n';
    }
    return text;
}

/// Runs one stage: `program args...` with `input` on stdin; its stdout, or an exception.
asyncio::Coro<std::string> stage(std::string program, std::vector<std::string> args, std::string input) {
    asyncio::ProcessOptions opts{.in = asyncio::PIPE, .out = asyncio::PIPE, .err = asyncio::PIPE};
    asyncio::Process p = co_await asyncio::create_subprocess_exec(program, args, opts);
    auto [out, err] = co_await p.communicate(input);
    if (*p.returncode() != 0) {
        throw std::runtime_error(program + " exited with " + std::to_string(*p.returncode()) + ": " + err);
    }
    co_return out;
}

/// Copies everything from `from` into `to`, then closes `to` (the next stage sees EOF).
asyncio::Coro<> pump(asyncio::Stream from, asyncio::Stream to) {
    for (;;) {
        std::string chunk = co_await from.read(65536);
        if (chunk.empty()) break;
        to.write(chunk);
        co_await to.drain();
    }
    to.close();
    co_await to.wait_closed();
}

/// Writes the text into the first stage and closes its stdin.
asyncio::Coro<> feed(asyncio::Stream to, std::string text) {
    to.write(text);
    co_await to.drain();
    to.close();
    co_await to.wait_closed();
}

asyncio::Coro<std::vector<std::string>> streaming(std::string text) {
    asyncio::ProcessOptions piped{.in = asyncio::PIPE, .out = asyncio::PIPE};
    std::vector<std::string> none;
    std::vector<std::string> count{"-c"};
    std::vector<std::string> by_number{"-rn"};
    asyncio::Process sort = co_await asyncio::create_subprocess_exec("sort", none, piped);
    asyncio::Process uniq = co_await asyncio::create_subprocess_exec("uniq", count, piped);
    asyncio::Process rank = co_await asyncio::create_subprocess_exec("sort", by_number, piped);
    auto feeding = asyncio::create_task(feed(sort.in, std::move(text)));
    auto first = asyncio::create_task(pump(sort.out, uniq.in));
    auto second = asyncio::create_task(pump(uniq.out, rank.in));
    std::vector<std::string> lines;
    for (;;) {
        std::string line = co_await rank.out.readline();
        if (line.empty()) break;
        lines.push_back(line);
    }
    co_await feeding;
    co_await first;
    co_await second;
    asyncio::Process* stages[] = {&sort, &uniq, &rank};
    for (asyncio::Process* p : stages) {
        int rc = co_await p->wait();
        if (rc != 0) throw std::runtime_error("a stage exited with " + std::to_string(rc));
    }
    co_return lines;
}

asyncio::Coro<int> main_task(int words) {
    const std::string text = make_text(words);

    // 1. Stage by stage.
    std::vector<std::string> none;  // named: a braced {} inside co_await trips g++ 12
    std::string sorted = co_await stage("sort", none, text);
    std::vector<std::string> count{"-c"};
    std::string counted = co_await stage("uniq", count, sorted);
    std::vector<std::string> by_number{"-rn"};
    std::string ranked = co_await stage("sort", by_number, counted);
    std::printf("stage by stage (sort | uniq -c | sort -rn):\n%s", ranked.c_str());

    // 2. One shell pipeline.
    asyncio::ProcessOptions opts{.in = asyncio::PIPE, .out = asyncio::PIPE};
    asyncio::Process shell = co_await asyncio::create_subprocess_shell("sort | uniq -c | sort -rn", opts);
    auto [shell_out, shell_err] = co_await shell.communicate(text);
    std::printf("through /bin/sh: %s\n", shell_out == ranked ? "same result" : "DIFFERENT");

    // 3. Three children streaming at once.
    std::vector<std::string> lines = co_await streaming(text);
    std::string joined;
    for (const std::string& l : lines) joined += l;
    std::printf("streaming, %zu lines: %s\n", lines.size(), joined == ranked ? "same result" : "DIFFERENT");

    // A program that cannot start is an exception from create_subprocess_exec, not an exit code.
    try {
        (void)co_await asyncio::create_subprocess_exec("no-such-program");
        std::printf("no-such-program started?!\n");
        co_return 1;
    } catch (const std::system_error& e) {
        std::printf("cannot start: %s (errno %d)\n", e.what(), e.code().value());
    }

    // A child killed by a signal has a negative returncode.
    std::vector<std::string> forever{"3600"};
    asyncio::Process sleeper = co_await asyncio::create_subprocess_exec("sleep", forever);
    sleeper.terminate();
    int rc = co_await sleeper.wait();
    std::printf("sleep 3600 after terminate(): returncode %d\n", rc);

    const bool ok = shell_out == ranked && joined == ranked && rc == -SIGTERM && *shell.returncode() == 0;
    co_return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    int words = 2000;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--words") == 0 && i + 1 < argc) {
            words = std::atoi(argv[++i]);
        } else {
            std::fprintf(stderr, "usage: %s [--words N]\n", argv[0]);
            return 2;
        }
    }
    try {
        return asyncio::run(main_task(words));
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shell_pipeline: %s\n", e.what());
        return 1;
    }
}
