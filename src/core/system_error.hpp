// One place that builds every std::system_error the library throws, so each names the
// operation (and, for sockets, the address): "connect 127.0.0.1:8443: Connection refused".
#pragma once

#include <string>

namespace asyncio::detail {

[[noreturn]] void throw_system_error(int err, const std::string& operation);

}  // namespace asyncio::detail
