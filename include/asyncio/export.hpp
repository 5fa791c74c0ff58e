/// @file
/// ASYNCIO_API: marks what the shared library exports. The library is compiled with
/// -fvisibility=hidden, so a class or function declared in a public header but defined in
/// src/ must carry it to be callable from a program linked with libasyncio.so; the internals
/// in src/ stay private. Header-only code (templates, inline functions) needs no mark.
#pragma once

/// Exported from libasyncio.so (default visibility).
#define ASYNCIO_API [[gnu::visibility("default")]]
