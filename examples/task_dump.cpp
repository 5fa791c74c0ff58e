// task_dump: what a hung program is waiting for, without stopping it. A small "service" gets
// stuck on purpose (an approval nobody gives); the call graph shows every task, the coroutine
// chain each one is suspended in (innermost first, with file:line) and who awaits whom.
//
//   task_dump           runs until Ctrl-C; press Ctrl-\ (or kill -QUIT <pid>) for a dump
//   task_dump --self    sends itself SIGQUIT, then resolves the hang and exits 0 (CI)
//
// Shows: enable_dump_on_signal (the dump goes to stderr, the program goes on),
// format_call_graph of one task (who awaits it), task_group children under their parent.
#include <asyncio/asyncio.hpp>

#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

asyncio::Coro<> wait_for_approval(asyncio::Event* approved) {
    co_await approved->wait();  // the hang: nobody sets it (until --self does)
}

asyncio::Coro<int> fetch(int id, asyncio::Event* approved) {
    co_await wait_for_approval(approved);
    co_return id * 10;
}

asyncio::Coro<> service(asyncio::Event* approved) {
    auto body = [approved](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
        for (int id = 1; id <= 2; ++id) {
            tg.create_task(fetch(id, approved)).set_name("fetch-" + std::to_string(id));
        }
        co_return;
    };
    co_await asyncio::task_group(body);  // named first: see docs/pitfalls.md
}

asyncio::Coro<int> main_task(bool self) {
    asyncio::enable_dump_on_signal(SIGQUIT);
    asyncio::Event approved;
    asyncio::Task<> svc = asyncio::create_task(service(&approved), "service");
    co_await asyncio::sleep(0.01);  // let the service get stuck

    // One task's graph, from inside the program: fetch-1 and who awaits it.
    for (asyncio::Task<> t : asyncio::all_tasks()) {
        if (t.get_name() == "fetch-1") std::printf("%s", asyncio::format_call_graph(t).c_str());
    }
    if (self) {
        std::raise(SIGQUIT);            // the dump is written to stderr by the loop's thread
        co_await asyncio::sleep(0.1);   // the program keeps running meanwhile
        approved.set();                 // resolve the hang
        co_await svc;
        std::printf("the service finished after the dump\n");
        co_return 0;
    }
    std::printf("stuck on purpose; press Ctrl-\\ or run: kill -QUIT %d\n", static_cast<int>(::getpid()));
    co_await svc;  // forever, until Ctrl-C
    co_return 0;
}

}  // namespace

int main(int argc, char** argv) {
    bool self = argc > 1 && std::strcmp(argv[1], "--self") == 0;
    return asyncio::run(main_task(self));
}
