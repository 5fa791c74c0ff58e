#include "core/system_error.hpp"

#include <system_error>

namespace asyncio::detail {

void throw_system_error(int err, const std::string& operation) {
    throw std::system_error(err, std::generic_category(), operation);
}

}  // namespace asyncio::detail
