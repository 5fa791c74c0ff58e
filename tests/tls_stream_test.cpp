// TLS streams' write and read paths over real loopback sockets: records coalesced from several
// chunks, partial sends (small socket buffers, and sends cut short through the system-call
// seam), writers in two tasks, records read ahead, and a large checksummed transfer each way.
// Certificates come from support/certs, made for the run. Every body runs under a generous
// wait_for, so a hang (a record left unread while the stream waits for an edge) fails the test.
#include <asyncio/asyncio.hpp>

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "io/sys.hpp"
#include "support/certs.hpp"
#include "support/test_loop.hpp"

using namespace asyncio;
using TlsStream = asyncio::testing::LoopTest;
namespace sys = asyncio::detail::sys;

namespace {

constexpr std::int64_t kTestTimeoutMs = 60'000;

using asyncio::testing::test_client_context;
using asyncio::testing::test_server_context;

template <class T>
T run_test(Coro<T> body) {
    return asyncio::testing::run_with_deadline(std::move(body), kTestTimeoutMs);
}

// A deterministic byte stream (xorshift32): byte k of stream `seed` is the same however the
// bytes were cut into writes and reads, so either side can check without keeping a copy.
class Pattern {
public:
    explicit Pattern(std::uint32_t seed) : x_(seed | 1u) {}
    std::string next(std::size_t n) {
        std::string out(n, '\0');
        for (char& c : out) {
            x_ ^= x_ << 13;
            x_ ^= x_ >> 17;
            x_ ^= x_ << 5;
            c = static_cast<char>(x_ & 0xff);
        }
        return out;
    }

private:
    std::uint32_t x_;
};

// Varied sizes from a seed: 1 byte to `max`, small ones often (many chunks per record).
class Sizes {
public:
    explicit Sizes(std::uint32_t seed) : x_(seed | 1u) {}
    std::size_t next(std::size_t max) {
        x_ = x_ * 1664525u + 1013904223u;
        std::uint32_t r = x_ >> 8;
        std::size_t cap = (r & 3) == 0 ? max : (r & 3) == 1 ? 4096 : 300;
        return 1 + (r >> 2) % (cap < max ? cap : max);
    }

private:
    std::uint32_t x_;
};

// What a test's server side saw and did; lives in the test's frame.
struct Side {
    std::string error;  // first exception, empty if none
    std::uint64_t bytes_ok = 0;
    bool done = false;
    Event finished;
    Event go;       // for handlers that wait for the test
    Event started;  // set by handlers that tell the test they run (the handshake is over)
};

// The socket under a stream: the fd whose local and peer addresses are the stream's (the test
// shrinks its buffers; the library offers no fd on purpose).
int socket_fd_of(const Stream& s) {
    const Address local = s.get_extra_info("sockname");
    const Address peer = s.get_extra_info("peername");
    DIR* dir = ::opendir("/proc/self/fd");
    int found = -1;
    while (dirent* e = ::readdir(dir)) {
        int fd = std::atoi(e->d_name);
        sockaddr_in a{}, b{};
        socklen_t la = sizeof a, lb = sizeof b;
        if (e->d_name[0] == '.' || ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &la) != 0 ||
            ::getpeername(fd, reinterpret_cast<sockaddr*>(&b), &lb) != 0 || a.sin_family != AF_INET) {
            continue;
        }
        if (ntohs(a.sin_port) == local.port && ntohs(b.sin_port) == peer.port) found = fd;
    }
    ::closedir(dir);
    return found;
}

void shrink_send_buffer(const Stream& s) {
    int fd = socket_fd_of(s);
    EXPECT_GE(fd, 0) << "the stream's socket was not found";
    int small = 4096;  // the kernel doubles it: a few KiB, less than one full record
    ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
}

Coro<Server> serve(ConnectionCallback callback) {
    Server server = co_await start_server(std::move(callback), "127.0.0.1", 0, 5, test_server_context());
    co_return server;
}

Coro<> close_stream(Stream writer) {
    writer.close();
    co_await writer.wait_closed();
}

Coro<> wait_done(Side* side) {
    while (!side->done) {
        side->finished.clear();
        co_await side->finished.wait();
    }
}

Coro<> close_server(Server* server) {
    server->close();
    co_await server->wait_closed();
}

// --- one record from several chunks --------------------------------------------------------

struct Counts {
    int sends = 0;
    std::size_t bytes = 0;
    bool on = false;
};

sys::Decision count_sends(void* self, sys::Call call, int, std::size_t size, int) {
    auto* c = static_cast<Counts*>(self);
    if (call == sys::Call::Send && c->on) {
        ++c->sends;
        c->bytes += size;
    }
    return {};
}

Coro<> read_n_handler(Stream reader, Stream writer, Side* side, std::size_t n) {
    side->started.set();
    try {
        std::string got = co_await reader.readexactly(n);
        side->bytes_ok = got.size();
    } catch (const std::exception& e) {
        side->error = e.what();
    }
    co_await close_stream(writer);
    side->done = true;
    side->finished.set();
}

Coro<> one_record_body(Counts* counts) {
    Side side;
    constexpr std::size_t kPiece = 5000;  // adopted as chunks of their own (>= 4 KiB rvalues)
    Server server = co_await serve(
        [&side](Stream r, Stream w) { return read_n_handler(std::move(r), std::move(w), &side, 3 * kPiece + 100); });
    std::pair<Stream, Stream> conn = co_await open_connection("127.0.0.1", server.port(), test_client_context());
    // The server's side of the handshake (its session tickets) is over once its callback runs.
    co_await side.started.wait();
    counts->on = true;
    conn.second.write(std::string(100, 'a'));
    conn.second.write(std::string(kPiece, 'b'));
    conn.second.write(std::string(kPiece, 'c'));
    conn.second.write(std::string(kPiece, 'd'));
    co_await conn.second.drain();
    counts->on = false;
    co_await wait_done(&side);
    co_await close_stream(conn.second);
    co_await close_server(&server);
    EXPECT_EQ(side.error, "");
    EXPECT_EQ(side.bytes_ok, 3 * kPiece + 100);
}

}  // namespace

TEST_F(TlsStream, ChunksOfOneRoundUnder16KiBGoOutAsOneRecordInOneSend) {
    Counts counts;
    sys::set_fault_hook(&count_sends, &counts);
    run_test(one_record_body(&counts));
    sys::set_fault_hook(nullptr, nullptr);
    // Four chunks (a copied one and three adopted strings), 15,100 bytes: one record (a few
    // dozen bytes of header and tag), one send; before, one record and one send per chunk.
    EXPECT_EQ(counts.sends, 1);
    EXPECT_GE(counts.bytes, 15'100u);
    EXPECT_LT(counts.bytes, 15'100u + 64u);
}

// --- partial writes, two writer tasks --------------------------------------------------------
//
// Two tasks write framed messages to one TLS stream at once (each frame: writer id, sequence
// number, length, then bytes of that writer's pattern), each awaiting drain() after every
// frame or every few; the other side parses the frames and checks each writer's sequence and
// bytes. With small socket buffers (or sends cut short by the seam) records go out in pieces,
// SSL_write reports WANT_WRITE mid-record, and more chunks are appended before it is retried.

namespace {

constexpr int kFrames = 300;

std::string frame(int writer, int seq, const std::string& body) {
    std::string h(9, '\0');
    h[0] = static_cast<char>(writer);
    for (int i = 0; i < 4; ++i) h[1 + i] = static_cast<char>((static_cast<std::uint32_t>(seq) >> (8 * i)) & 0xff);
    for (int i = 0; i < 4; ++i) h[5 + i] = static_cast<char>((body.size() >> (8 * i)) & 0xff);
    return h + body;
}

std::uint32_t le32(const std::string& s, std::size_t at) {
    std::uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v |= static_cast<std::uint32_t>(static_cast<unsigned char>(s[at + i])) << (8 * i);
    return v;
}

Coro<> frame_writer(Stream writer, int id, std::string* error) {
    Pattern bytes(1000u + static_cast<std::uint32_t>(id));
    Sizes sizes(77u * static_cast<std::uint32_t>(id + 1));
    try {
        for (int seq = 0; seq < kFrames; ++seq) {
            std::string f = frame(id, seq, bytes.next(sizes.next(20'000)));
            if (seq % 3 == 0) {
                writer.write(std::move(f));
            } else {
                writer.write(f);
            }
            if (seq % (id + 1) == 0) co_await writer.drain();  // writer 1 drains every other frame
        }
        co_await writer.drain();
    } catch (const std::exception& e) {
        if (error->empty()) *error = e.what();
    }
}

// Reads frames until both writers sent kFrames; checks order and bytes.
Coro<std::string> frame_reader(Stream reader) {
    Pattern bytes[2] = {Pattern(1000u), Pattern(1001u)};
    Sizes sizes[2] = {Sizes(77u), Sizes(154u)};
    int next_seq[2] = {0, 0};
    while (next_seq[0] < kFrames || next_seq[1] < kFrames) {
        std::string h = co_await reader.readexactly(9);
        int id = h[0];
        if (id != 0 && id != 1) co_return "bad writer id " + std::to_string(id);
        std::uint32_t seq = le32(h, 1), len = le32(h, 5);
        if (seq != static_cast<std::uint32_t>(next_seq[id])) {
            co_return "writer " + std::to_string(id) + ": frame " + std::to_string(seq) + " after " +
                std::to_string(next_seq[id] - 1);
        }
        std::size_t want = sizes[id].next(20'000);
        if (len != want) co_return "writer " + std::to_string(id) + " frame " + std::to_string(seq) + ": length";
        std::string body = co_await reader.readexactly(len);
        if (body != bytes[id].next(len)) {
            co_return "writer " + std::to_string(id) + " frame " + std::to_string(seq) + ": bytes differ";
        }
        ++next_seq[id];
    }
    co_return "";
}

// Server: two tasks write frames to the client; client reads and checks (then the reverse
// direction is the same code: the handler's reader checks frames the client's tasks write).
Coro<> two_writers_handler(Stream reader, Stream writer, Side* side, bool shrink) {
    if (shrink) shrink_send_buffer(writer);
    std::string werr;
    Task<> w0 = create_task(frame_writer(writer, 0, &werr));
    Task<> w1 = create_task(frame_writer(writer, 1, &werr));
    std::string rerr;
    try {
        rerr = co_await frame_reader(reader);
    } catch (const std::exception& e) {
        rerr = e.what();
    }
    co_await w0;
    co_await w1;
    side->error = !werr.empty() ? werr : rerr;
    co_await close_stream(writer);
    side->done = true;
    side->finished.set();
}

Coro<std::string> two_writers_body(bool shrink) {
    Side side;
    Server server = co_await serve([&side, shrink](Stream r, Stream w) {
        return two_writers_handler(std::move(r), std::move(w), &side, shrink);
    });
    std::pair<Stream, Stream> conn = co_await open_connection("127.0.0.1", server.port(), test_client_context());
    if (shrink) shrink_send_buffer(conn.second);
    std::string werr;
    Task<> w0 = create_task(frame_writer(conn.second, 0, &werr));
    Task<> w1 = create_task(frame_writer(conn.second, 1, &werr));
    std::string rerr = co_await frame_reader(conn.first);
    co_await w0;
    co_await w1;
    co_await wait_done(&side);
    co_await close_stream(conn.second);
    co_await close_server(&server);
    if (!werr.empty()) co_return "client writer: " + werr;
    if (!rerr.empty()) co_return "client reader: " + rerr;
    if (!side.error.empty()) co_return "server: " + side.error;
    co_return "";
}

// Every send cut short (1..97 bytes, cycling) and every 7th made to report EAGAIN: OpenSSL's
// record is always sent in pieces; the seam owes the fd an edge, as the kernel would give.
struct ShortSends {
    int calls = 0;
    int short_ones = 0;
    static sys::Decision hook(void* self, sys::Call call, int, std::size_t size, int) {
        auto* c = static_cast<ShortSends*>(self);
        if (call != sys::Call::Send || size <= 1) return {};
        ++c->calls;
        sys::Decision d;
        if (c->calls % 7 == 0) {
            d.kind = sys::Decision::Fail;
            d.error = EAGAIN;
            return d;
        }
        ++c->short_ones;
        d.kind = sys::Decision::Short;
        d.max = 1 + static_cast<std::size_t>(c->calls) % 97;
        return d;
    }
};

}  // namespace

TEST_F(TlsStream, TwoWriterTasksUnderSmallSocketBuffersDeliverEveryFrameInOrder) {
    EXPECT_EQ(run_test(two_writers_body(true)), "");
}

TEST_F(TlsStream, TwoWriterTasksWithEverySendCutShortDeliverEveryFrameInOrder) {
    ShortSends shorts;
    sys::set_fault_hook(&ShortSends::hook, &shorts);  // before the sockets exist: the seam tracks them
    std::string result = run_test(two_writers_body(false));
    sys::set_fault_hook(nullptr, nullptr);
    EXPECT_EQ(result, "");
    EXPECT_GT(shorts.short_ones, 1000) << "sends were not cut short";
}

// --- records read ahead --------------------------------------------------------------------

namespace {

// Waits until the client has sent three records (each its own drain), so they arrive
// together and one recv reads them all; then reads them back. Reading must not wait for an
// edge while OpenSSL holds records already received.
Coro<> three_records_handler(Stream reader, Stream writer, Side* side) {
    try {
        co_await side->go.wait();
        std::string got = co_await reader.readexactly(3 * 1000);
        std::string expected = std::string(1000, 'x') + std::string(1000, 'y') + std::string(1000, 'z');
        if (got != expected) side->error = "the three records came back wrong";
        std::string last = co_await reader.readexactly(10);  // a later record: a new edge
        if (last != "0123456789") side->error = "the fourth record came back wrong";
        writer.write("ok");
        co_await writer.drain();
    } catch (const std::exception& e) {
        side->error = e.what();
    }
    co_await close_stream(writer);
    side->done = true;
    side->finished.set();
}

Coro<> read_ahead_body() {
    Side side;
    Server server =
        co_await serve([&side](Stream r, Stream w) { return three_records_handler(std::move(r), std::move(w), &side); });
    std::pair<Stream, Stream> conn = co_await open_connection("127.0.0.1", server.port(), test_client_context());
    for (char c : std::string("xyz")) {
        conn.second.write(std::string(1000, c));
        co_await conn.second.drain();  // one record each
    }
    side.go.set();
    for (int i = 0; i < 5; ++i) co_await sleep(0);
    conn.second.write("0123456789");
    co_await conn.second.drain();
    std::string ok = co_await conn.first.readexactly(2);
    EXPECT_EQ(ok, "ok");
    co_await wait_done(&side);
    co_await close_stream(conn.second);
    co_await close_server(&server);
    EXPECT_EQ(side.error, "");
}

}  // namespace

TEST_F(TlsStream, RecordsReceivedTogetherAreAllReadWithoutWaitingForAnotherEdge) { run_test(read_ahead_body()); }

// --- a large checksummed transfer each way -------------------------------------------------

namespace {

constexpr std::size_t kBulk = 24 * 1024 * 1024;

// Writes kBulk bytes of pattern `seed` in varied pieces (copied, adopted, up to 100 KiB).
Coro<> bulk_send(Stream writer, std::uint32_t seed, std::string* error) {
    Pattern bytes(seed);
    Sizes sizes(seed * 3u);
    try {
        for (std::size_t sent = 0; sent < kBulk;) {
            std::size_t n = std::min(sizes.next(100'000), kBulk - sent);
            std::string piece = bytes.next(n);
            if (n % 2 == 0) {
                writer.write(std::move(piece));
            } else {
                writer.write(piece);
            }
            sent += n;
            co_await writer.drain();
        }
    } catch (const std::exception& e) {
        *error = e.what();
    }
}

// Reads kBulk bytes with varied read sizes and checks them against pattern `seed`.
Coro<std::string> bulk_check(Stream reader, std::uint32_t seed) {
    Pattern bytes(seed);
    Sizes sizes(seed * 5u);
    std::size_t have = 0;
    while (have < kBulk) {
        std::size_t want = sizes.next(200'000);
        std::string got;
        if (want % 3 == 0) {  // (no co_await inside ?: : g++ 12 and clang 14 miscompile it)
            got = co_await reader.readexactly(std::min(want, kBulk - have));
        } else {
            got = co_await reader.read(static_cast<long>(want));
        }
        if (got.empty()) co_return "end of stream after " + std::to_string(have) + " bytes";
        if (got != bytes.next(got.size())) co_return "bytes differ in [" + std::to_string(have) + ", +" +
                                                       std::to_string(got.size()) + ")";
        have += got.size();
    }
    co_return "";
}

Coro<> bulk_handler(Stream reader, Stream writer, Side* side) {
    std::string werr;
    Task<> sender = create_task(bulk_send(writer, 11u, &werr));
    std::string rerr = co_await bulk_check(reader, 22u);
    co_await sender;
    side->error = !werr.empty() ? werr : rerr;
    co_await close_stream(writer);
    side->done = true;
    side->finished.set();
}

Coro<std::string> bulk_body() {
    Side side;
    Server server =
        co_await serve([&side](Stream r, Stream w) { return bulk_handler(std::move(r), std::move(w), &side); });
    std::pair<Stream, Stream> conn = co_await open_connection("127.0.0.1", server.port(), test_client_context());
    std::string werr;
    Task<> sender = create_task(bulk_send(conn.second, 22u, &werr));
    std::string rerr = co_await bulk_check(conn.first, 11u);
    co_await sender;
    co_await wait_done(&side);
    co_await close_stream(conn.second);
    co_await close_server(&server);
    if (!werr.empty()) co_return "client send: " + werr;
    if (!rerr.empty()) co_return "client check: " + rerr;
    if (!side.error.empty()) co_return "server: " + side.error;
    co_return "";
}

}  // namespace

TEST_F(TlsStream, TwentyFourMebibytesEachWayAtOnceArriveIntact) { EXPECT_EQ(run_test(bulk_body()), ""); }
