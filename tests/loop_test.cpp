#include <asyncio/asyncio.hpp>
