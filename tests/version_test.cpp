// <asyncio/version.hpp>: the macros are generated from CMake's project(VERSION), which the
// build passes in as ASYNCIO_EXPECTED_VERSION, and the umbrella header includes them.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <string>

TEST(Version, MacrosMatchTheCMakeProjectVersion) {
    EXPECT_STREQ(ASYNCIO_VERSION_STRING, ASYNCIO_EXPECTED_VERSION);
    std::string joined = std::to_string(ASYNCIO_VERSION_MAJOR) + "." + std::to_string(ASYNCIO_VERSION_MINOR) + "." +
                         std::to_string(ASYNCIO_VERSION_PATCH);
    EXPECT_EQ(joined, ASYNCIO_VERSION_STRING);
    EXPECT_EQ(ASYNCIO_VERSION_NUMBER, ASYNCIO_VERSION_MAJOR * 10000 + ASYNCIO_VERSION_MINOR * 100 + ASYNCIO_VERSION_PATCH);
}

static_assert(ASYNCIO_VERSION_NUMBER >= 100, "0.1.0 is the first version");
