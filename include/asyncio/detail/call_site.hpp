// Where a coroutine frame is in the source, for the call graph (callgraph.hpp), captured for
// free when nobody looks: the frame's function when the frame is created (a defaulted argument
// of the promise's constructor) and the co_await it last reached (a defaulted argument of
// PromiseBase::await_transform). Both are compile-time constants: capturing one is a store.
//
// With std::source_location (g++ >= 11, clang >= 15): one pointer each. The promise
// constructor's location names the coroutine function ("asyncio::Coro<int> fetch(int)"); the
// co_await's gives file and line (g++ names the compiler's resume function there, so its
// function name is not used).
// Without it (clang 14 has no __builtin_source_location): clang's __builtin_FUNCTION and
// __builtin_FILE at the constructor (the bare name "fetch", no signature) and __builtin_LINE
// at the co_await. A compiler with neither gives "<unknown>".
#pragma once

#include <cstdint>
#include <version>

#if defined(__cpp_lib_source_location)
#include <source_location>
#define ASYNCIO_HAS_SOURCE_LOCATION 1
#else
#define ASYNCIO_HAS_SOURCE_LOCATION 0
#endif

namespace asyncio::detail {

#if ASYNCIO_HAS_SOURCE_LOCATION
/// The coroutine function of a frame (function name, file, its last line on g++).
struct FrameOrigin {
    std::source_location where{};
};
/// The co_await a frame last reached.
using AwaitSite = std::source_location;
#define ASYNCIO_FRAME_ORIGIN_PARAMS ::asyncio::detail::FrameOrigin created_at = {std::source_location::current()}
#if defined(__has_builtin)
#if __has_builtin(__builtin_source_location)
#define ASYNCIO_AWAIT_SITE_IS_POINTER 1
#endif
#endif
#if defined(ASYNCIO_AWAIT_SITE_IS_POINTER)
// The co_await's location as the pointer std::source_location wraps (its only member), not as
// a std::source_location: g++ 12 keeps a class-type default argument of a co_await expression
// in the coroutine frame across the suspension (8 bytes in every frame that awaits), a
// pointer it does not.
static_assert(sizeof(std::source_location) == sizeof(const void*));
using AwaitSiteArg = const void*;
#define ASYNCIO_AWAIT_SITE_PARAM ::asyncio::detail::AwaitSiteArg site = __builtin_source_location()
inline AwaitSite to_await_site(AwaitSiteArg p) noexcept { return __builtin_bit_cast(std::source_location, p); }
#else
using AwaitSiteArg = std::source_location;
#define ASYNCIO_AWAIT_SITE_PARAM ::asyncio::detail::AwaitSiteArg site = std::source_location::current()
inline AwaitSite to_await_site(AwaitSiteArg s) noexcept { return s; }
#endif
#else
struct FrameOrigin {
    const char* function = nullptr;
    const char* file = nullptr;
};
using AwaitSite = std::uint32_t;  // the line
using AwaitSiteArg = std::uint32_t;
inline AwaitSite to_await_site(AwaitSiteArg s) noexcept { return s; }
#if defined(__clang__) || defined(__GNUC__)
#define ASYNCIO_FRAME_ORIGIN_PARAMS \
    ::asyncio::detail::FrameOrigin created_at = {__builtin_FUNCTION(), __builtin_FILE()}
#define ASYNCIO_AWAIT_SITE_PARAM ::asyncio::detail::AwaitSite site = __builtin_LINE()
#else
#define ASYNCIO_FRAME_ORIGIN_PARAMS ::asyncio::detail::FrameOrigin created_at = {}
#define ASYNCIO_AWAIT_SITE_PARAM ::asyncio::detail::AwaitSite site = 0
#endif
#endif

}  // namespace asyncio::detail
