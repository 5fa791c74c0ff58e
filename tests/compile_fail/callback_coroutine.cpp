// Must NOT compile: a coroutine function given where a void() callback is expected. It would
// only create the coroutine and drop it unrun (CPython raises TypeError "coroutines cannot be
// used with add_signal_handler()"). The build of this file is a test that passes when the
// compiler's message says so (tests/CMakeLists.txt, callback_coroutine).
#include <asyncio/loop.hpp>
#include <asyncio/task.hpp>

#include <csignal>

asyncio::Coro<> on_signal() { co_return; }

void install(asyncio::Loop& loop) {
#ifdef ASYNCIO_COMPILE_FAIL_CONTROL
    loop.add_signal_handler(SIGHUP, [] { asyncio::create_task(on_signal()); });  // the fix compiles
    loop.call_soon([] { asyncio::create_task(on_signal()); });
#elif defined(ASYNCIO_COMPILE_FAIL_CALL_SOON)
    loop.call_soon(on_signal);  // error: coroutines cannot be used with call_soon()
#else
    loop.add_signal_handler(SIGHUP, on_signal);  // error: coroutines cannot be used with add_signal_handler()
#endif
}
