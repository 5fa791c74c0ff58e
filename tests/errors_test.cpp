// The exception types: CancelledError escapes generic handlers, the others are std::exceptions.
#include <asyncio/asyncio.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <type_traits>

using namespace asyncio;

static_assert(!std::is_base_of_v<std::exception, CancelledError>,
              "CancelledError must not be caught by catch (const std::exception&)");
static_assert(std::is_base_of_v<std::exception, TimeoutError>);
static_assert(std::is_base_of_v<std::exception, EOFError>);
static_assert(std::is_base_of_v<std::runtime_error, RuntimeError>);

TEST(Errors, CancelledErrorIsNotCaughtByAGenericStdExceptionHandler) {
    bool generic = false, by_name = false;
    try {
        try {
            throw CancelledError{};
        } catch (const std::exception&) {
            generic = true;
        }
    } catch (const CancelledError& e) {
        by_name = true;
        EXPECT_STREQ(e.what(), "CancelledError");
    }
    EXPECT_FALSE(generic);
    EXPECT_TRUE(by_name);
}

TEST(Errors, ACancelledTaskIsNotSwallowedByCatchStdException) {
    new_event_loop();
    auto victim = []() -> Coro<int> {
        try {
            co_await sleep_ms(10'000);
        } catch (const std::exception&) {
            co_return 1;  // must not be reached by a cancel
        }
        co_return 0;
    };
    auto main = [](decltype(victim) v) -> Coro<> {
        Task<int> t = create_task(v());
        co_await sleep(0);
        t.cancel();
        EXPECT_THROW(co_await t, CancelledError);
    };
    run(main(victim));
}

TEST(Errors, MessagesNameTheProblem) {
    EXPECT_STREQ(TimeoutError().what(), "TimeoutError");
    EXPECT_STREQ(EOFError().what(), "EOFError");
    EXPECT_STREQ(RuntimeError("can't cancel self").what(), "can't cancel self");
}
