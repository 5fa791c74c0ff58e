// open_fd: Streams over pipes (both directions), FIFOs and sockets; EOF, EPIPE without SIGPIPE,
// refused fds, and the fd closed exactly once.
#include <asyncio/asyncio.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <system_error>

#include "support/process_counts.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using asyncio::testing::open_fd_count;
using asyncio::testing::FdCount;
using FdTest = asyncio::testing::LoopTest;

namespace {

bool fd_is_open(int fd) { return ::fcntl(fd, F_GETFD) != -1 || errno != EBADF; }

struct Pipe {
    int read = -1;
    int write = -1;
    Pipe() {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0) throw std::system_error(errno, std::generic_category(), "pipe2");
        read = p[0];
        write = p[1];
    }
};

// SIGPIPE's default action kills the process: make the test fail loudly instead if one arrives.
volatile sig_atomic_t g_sigpipes = 0;
void count_sigpipe(int) { g_sigpipes = g_sigpipes + 1; }

}  // namespace

TEST_F(FdTest, APipeCarriesLinesFromWriterToReader) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Pipe p;
        Stream in = open_fd(p.read);
        Stream out = open_fd(p.write);
        out.write("one\ntwo\n");
        co_await out.drain();
        EXPECT_EQ(co_await in.readline(), "one\n");
        EXPECT_EQ(co_await in.readline(), "two\n");
        out.close();
        co_await out.wait_closed();
        in.close();
        co_await in.wait_closed();
    };
    run(main());
}

TEST_F(FdTest, TheFdIsMadeNonBlocking) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Pipe p;
        Stream in = open_fd(p.read);
        EXPECT_NE(::fcntl(p.read, F_GETFL) & O_NONBLOCK, 0);
        ::close(p.write);
        co_return;
    };
    run(main());
}

TEST_F(FdTest, ClosingTheWriteEndGivesEofToTheReaderAfterTheData) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Pipe p;
        Stream in = open_fd(p.read);
        Stream out = open_fd(p.write);
        out.write("last words");
        co_await out.drain();
        out.close();
        co_await out.wait_closed();
        EXPECT_EQ(co_await in.read(), "last words");  // read(-1): everything until EOF
        EXPECT_EQ(co_await in.read(), "");
        EXPECT_EQ(co_await in.readline(), "");
        in.close();
    };
    run(main());
}

TEST_F(FdTest, ReadWaitsForAWriterThatComesLater) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Pipe p;
        Stream in = open_fd(p.read);
        Stream out = open_fd(p.write);
        auto writer = [](Stream out) -> Coro<> {
            co_await sleep_ms(5);
            out.write("late\n");
            co_await out.drain();
            out.close();
        };
        Task<> t = create_task(writer(out));
        EXPECT_EQ(co_await in.readline(), "late\n");  // suspended until the writer ran
        co_await t;
        EXPECT_EQ(co_await in.read(), "");
        in.close();
    };
    run(main());
}

TEST_F(FdTest, LargeWritesWaitForTheReaderToMakeRoom) {
    FdCount fds;
    auto main = []() -> Coro<> {
        Pipe p;
        Stream in = open_fd(p.read);
        Stream out = open_fd(p.write);
        const std::string big(1 << 20, 'x');  // 16 times a default pipe's capacity
        auto writer = [](Stream out, std::string data) -> Coro<> {
            out.write(data);
            co_await out.drain();
            out.close();
            co_await out.wait_closed();
        };
        Task<> t = create_task(writer(out, big));
        std::string got = co_await in.read();
        co_await t;
        EXPECT_EQ(got.size(), big.size());
        EXPECT_EQ(got, big);
        in.close();
    };
    run(main());
}

TEST_F(FdTest, WritingToAPipeWhoseReaderClosedRaisesEpipeAtDrainNotSigpipe) {
    FdCount fds;
    struct sigaction counting {}, old{};
    counting.sa_handler = count_sigpipe;
    sigemptyset(&counting.sa_mask);
    ASSERT_EQ(::sigaction(SIGPIPE, &counting, &old), 0);
    g_sigpipes = 0;
    auto main = []() -> Coro<> {
        Pipe p;
        Stream out = open_fd(p.write);
        ::close(p.read);
        out.write("nobody listens");
        try {
            co_await out.drain();
            ADD_FAILURE() << "drain() should raise EPIPE";
        } catch (const std::system_error& e) {
            EXPECT_EQ(e.code().value(), EPIPE) << e.what();
            EXPECT_NE(std::string(e.what()).find("write fd"), std::string::npos) << e.what();
        }
        out.close();
        co_await out.wait_closed();
    };
    run(main());
    // Nothing was delivered, and nothing was left pending to be delivered later either.
    sigset_t pending;
    sigemptyset(&pending);
    sigpending(&pending);
    EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
    EXPECT_EQ(g_sigpipes, 0);
    ::sigaction(SIGPIPE, &old, nullptr);
}

TEST_F(FdTest, ARegularFileIsRefusedWithAClearErrorAndClosed) {
    FdCount fds;
    char path[] = "/tmp/asyncio_fd_test_XXXXXX";
    int fd = ::mkstemp(path);
    ASSERT_GE(fd, 0);
    ::unlink(path);
    try {
        (void)open_fd(fd);
        ADD_FAILURE() << "open_fd should refuse a regular file";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("regular file"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fd_is_open(fd)) << "open_fd owns the fd, also when it refuses it";
}

TEST_F(FdTest, AFileEpollRefusesRaisesSystemErrorEperm) {
    FdCount fds;
    int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);  // a character device epoll cannot watch
    ASSERT_GE(fd, 0);
    try {
        (void)open_fd(fd);
        ADD_FAILURE() << "open_fd should refuse /dev/null";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EPERM);
        EXPECT_NE(std::string(e.what()).find("epoll cannot watch"), std::string::npos) << e.what();
    }
    EXPECT_FALSE(fd_is_open(fd));
}

TEST_F(FdTest, ABadFdRaisesEbadf) {
    FdCount fds;
    Pipe p;
    ::close(p.read);
    ::close(p.write);
    try {
        (void)open_fd(p.read);
        ADD_FAILURE() << "open_fd should refuse a closed fd";
    } catch (const std::system_error& e) {
        EXPECT_EQ(e.code().value(), EBADF);
    }
    EXPECT_THROW((void)open_fd(-1), std::invalid_argument);
}

TEST_F(FdTest, TheFdIsClosedExactlyOnceWhenTheLastHandleGoes) {
    FdCount fds;
    Pipe p;
    {
        Stream in = open_fd(p.read);
        Stream copy = in;
        in.close();
        EXPECT_FALSE(fd_is_open(p.read));
        // Reuse the number: a second close of the old fd would close this new one.
        int again = ::dup(p.write);
        ASSERT_EQ(again, p.read);
        copy.close();
        EXPECT_TRUE(fd_is_open(again)) << "the stream closed its fd twice";
        ::close(again);
    }
    {
        int q[2];
        ASSERT_EQ(::pipe2(q, O_CLOEXEC), 0);
        { Stream dropped = open_fd(q[0]); }  // never closed explicitly: the destructor does it
        EXPECT_FALSE(fd_is_open(q[0]));
        ::close(q[1]);
    }
    ::close(p.write);
}

TEST_F(FdTest, ASocketFdUsesTheSocketPathAndKnowsItsPeer) {
    FdCount fds;
    auto main = []() -> Coro<> {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        Stream a = open_fd(sv[0]);
        Stream b = open_fd(sv[1]);
        a.write("over a socketpair\n");
        co_await a.drain();
        EXPECT_EQ(co_await b.readline(), "over a socketpair\n");
        b.close();
        co_await b.wait_closed();
        EXPECT_EQ(co_await a.read(), "");
        a.close();
    };
    run(main());
}

TEST_F(FdTest, APipeHasNoPeername) {
    FdCount fds;
    Pipe p;
    Stream in = open_fd(p.read);
    EXPECT_THROW((void)in.get_extra_info("peername"), std::invalid_argument);
    EXPECT_THROW((void)in.get_extra_info("sockname"), std::invalid_argument);
    in.close();
    ::close(p.write);
}

TEST_F(FdTest, AFifoWorksLikeAPipe) {
    FdCount fds;
    auto main = []() -> Coro<> {
        std::string path = "/tmp/asyncio_fifo_" + std::to_string(::getpid());
        ::unlink(path.c_str());
        EXPECT_EQ(::mkfifo(path.c_str(), 0600), 0);
        int r = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        int w = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        ::unlink(path.c_str());
        Stream in = open_fd(r);
        Stream out = open_fd(w);
        out.write("fifo\n");
        co_await out.drain();
        EXPECT_EQ(co_await in.readline(), "fifo\n");
        out.close();
        EXPECT_EQ(co_await in.read(), "");
        in.close();
    };
    run(main());
}
