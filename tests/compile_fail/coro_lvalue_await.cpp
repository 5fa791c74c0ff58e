// Must NOT compile: `co_await c` on a named Coro. The build of this file is a test that passes
// when the compiler's message names the fix (tests/CMakeLists.txt, coro_lvalue_await).
#include <asyncio/coro.hpp>

asyncio::Coro<int> answer() { co_return 42; }

asyncio::Coro<int> caller() {
    asyncio::Coro<int> c = answer();
#ifdef ASYNCIO_COMPILE_FAIL_CONTROL
    co_return co_await std::move(c);  // the fix compiles (CompileFail.*_control)
#else
    co_return co_await c;  // error: write co_await std::move(c)
#endif
}
