// The package tests' program (consumer/ and subdir/ both build it): runs a coroutine that
// sleeps 1 ms and returns 42, and exits 0 iff it got 42, so a build proves both that the
// package links and that its loop works.
#include <asyncio/asyncio.hpp>

namespace {

asyncio::Coro<int> answer() {
    co_await asyncio::sleep_ms(1);
    co_return 42;
}

}  // namespace

int main() { return asyncio::run(answer()) == 42 ? 0 : 1; }
