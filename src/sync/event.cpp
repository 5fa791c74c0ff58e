// Event: the cold path (destruction with waiters).
#include "asyncio/event.hpp"

#include "sync/abandon.hpp"

namespace asyncio {

Event::~Event() { detail::abandon_waiters(waiters_); }

}  // namespace asyncio
