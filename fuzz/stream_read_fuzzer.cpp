// libFuzzer target: the stream read paths (readline, read, readexactly, readinto) over a real
// socket pair, with the fuzzer choosing the bytes, how they are chunked on the wire, and which
// read runs next. Oracle: the reads return exactly the bytes sent, in order, each call keeps
// its contract (readline ends at '\n' or the end of stream, read(n) <= n, readexactly(n) == n
// or EOFError with the bytes left buffered, readinto <= its buffer), and nothing hangs.
//
// Input: [n][n op bytes][chunk seed][payload...]; op: bits 0-1 the call, bits 2-7 its size-1.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "asyncio/asyncio.hpp"
#include "net/stream_state.hpp"

namespace {

using namespace asyncio;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "stream_read_fuzzer: %s\n", what);
    std::abort();
}

// Writes `payload` to `fd` in chunks the seed picks, yielding to the loop between chunks, then
// ends the stream.
Coro<> feed(int fd, std::string payload, std::uint32_t seed) {
    std::size_t pos = 0;
    while (pos < payload.size()) {
        seed = seed * 1103515245u + 12345u;
        std::size_t n = 1 + (seed >> 16) % 97;
        if (n > payload.size() - pos) n = payload.size() - pos;
        if (::send(fd, payload.data() + pos, n, MSG_NOSIGNAL) != static_cast<ssize_t>(n)) fail("feed send");
        pos += n;
        for (std::uint32_t i = (seed >> 8) % 3; i > 0; --i) co_await sleep(0);
    }
    ::shutdown(fd, SHUT_WR);
}

Coro<std::string> read_all(Stream s, std::vector<std::uint8_t> ops) {
    std::string got;
    bool at_eof = false;
    for (std::size_t i = 0; !at_eof; ++i) {
        std::uint8_t op = ops.empty() ? 0 : ops[i % ops.size()];
        std::size_t n = static_cast<std::size_t>(op >> 2) + 1;
        switch (op & 3) {
        case 0: {
            std::string line = co_await s.readline();
            if (line.empty()) at_eof = true;
            if (!line.empty() && line.back() != '\n' && line.find('\n') != std::string::npos) fail("readline");
            if (line.find('\n') != std::string::npos && line.find('\n') != line.size() - 1) fail("readline: two lines");
            got += line;
            break;
        }
        case 1: {
            std::string part = co_await s.read(static_cast<long>(n));
            if (part.size() > n) fail("read(n) returned more than n");
            if (part.empty()) at_eof = true;
            got += part;
            break;
        }
        case 2: {
            bool short_read = false;
            try {
                std::string part = co_await s.readexactly(n);
                if (part.size() != n) fail("readexactly size");
                got += part;
            } catch (const EOFError&) {
                short_read = true;
            }
            if (short_read) {
                std::string rest = co_await s.read(-1);  // the partial bytes stay buffered
                if (rest.size() >= n) fail("readexactly raised EOFError with enough bytes");
                got += rest;
                at_eof = true;
            }
            break;
        }
        default: {
            char buf[64];
            std::size_t k = co_await s.readinto(std::span<char>(buf, n));
            if (k > n) fail("readinto overran");
            if (k == 0) at_eof = true;
            got.append(buf, k);
            break;
        }
        }
    }
    co_return got;
}

Coro<> one_input(std::string payload, std::vector<std::uint8_t> ops, std::uint32_t seed) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) fail("socketpair");
    Stream s(std::make_shared<detail::StreamState>(sv[0], Address{}));
    Task<> feeder = create_task(feed(sv[1], payload, seed));
    std::string got = co_await wait_for(read_all(s, std::move(ops)), 10.0);
    co_await feeder;
    if (got != payload) fail("bytes read differ from bytes sent");
    s.close();
    co_await s.wait_closed();
    ::close(sv[1]);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) return 0;
    std::size_t n = data[0] % 16;
    if (size < 2 + n) return 0;
    std::vector<std::uint8_t> ops(data + 1, data + 1 + n);
    std::uint32_t seed = data[1 + n];
    std::string payload(reinterpret_cast<const char*>(data + 2 + n), size - 2 - n);
    asyncio::run(one_input(std::move(payload), std::move(ops), seed));
    return 0;
}
