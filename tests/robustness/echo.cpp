// Echo server and client conversation for the robustness tests. See echo.hpp.
#include "robustness/echo.hpp"

#include <exception>

#include "support/certs.hpp"

namespace asyncio::testing {

Coro<> echo_connection(Stream reader, Stream writer, EchoLog* log) {
    ++log->active;
    try {
        for (;;) {
            std::string data = co_await reader.read(4096);
            if (data.empty()) break;
            writer.write(data);
            co_await writer.drain();
        }
    } catch (const CancelledError&) {
        --log->active;
        ++log->finished;
        log->changed.set();
        throw;
    } catch (const std::exception&) {
        // a reset or a failed write ends this connection only
    }
    try {
        writer.close();
        co_await writer.wait_closed();
    } catch (const std::exception&) {
    }
    --log->active;
    ++log->finished;
    log->changed.set();
}

Coro<Server> start_echo_server(EchoLog* log, bool tls) {
    ConnectionCallback callback = [log](Stream r, Stream w) { return echo_connection(std::move(r), std::move(w), log); };
    if (!tls) {
        Server server = co_await start_server(std::move(callback), "127.0.0.1", 0, 128);
        co_return server;
    }
    Server server = co_await start_server(std::move(callback), "127.0.0.1", 0, 128, test_server_context());
    co_return server;
}

Coro<bool> wait_quiet(EchoLog* log) {
    try {
        while (log->active > 0) {
            log->changed.clear();
            co_await wait_for(log->changed.wait(), 5.0);
        }
    } catch (const TimeoutError&) {
    }
    co_return log->active == 0;
}

std::string payload(std::size_t size, std::uint64_t seed) {
    std::string out(size, '\0');
    std::uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
    for (char& c : out) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x);
    }
    return out;
}

namespace {

Coro<std::pair<Stream, Stream>> connect_to(std::string host, std::uint16_t port, bool tls) {
    if (!tls) {
        std::pair<Stream, Stream> conn = co_await open_connection(host, port);
        co_return conn;
    }
    std::pair<Stream, Stream> conn = co_await open_connection(host, port, test_client_context(), "127.0.0.1");
    co_return conn;
}

Coro<> send_chunks(Stream writer, std::string data, std::size_t chunk_max) {
    std::size_t pos = 0;
    std::uint64_t x = data.size() + 12345;
    while (pos < data.size()) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        std::size_t n = 1 + static_cast<std::size_t>(x >> 33) % chunk_max;
        if (n > data.size() - pos) n = data.size() - pos;
        writer.write(std::string_view(data).substr(pos, n));
        co_await writer.drain();
        pos += n;
    }
}

// Returns the error that stopped it ("" if none): a task that raises while nobody awaits it
// yet would be reported by the loop's exception handler.
Coro<std::string> send_all(Stream writer, std::string data, std::size_t chunk_max) {
    try {
        co_await send_chunks(writer, std::move(data), chunk_max);
    } catch (const std::exception& e) {
        co_return e.what();
    }
    co_return std::string();
}

}  // namespace

Coro<Echoed> converse(std::uint16_t port, bool tls, std::string data, std::size_t chunk_max, std::string host) {
    Echoed out;
    std::optional<std::pair<Stream, Stream>> conn;
    try {
        std::pair<Stream, Stream> c = co_await connect_to(host, port, tls);
        conn.emplace(std::move(c));
    } catch (const std::exception& e) {
        out.error = e.what();
        co_return out;
    }
    Stream reader = conn->first;
    Stream writer = conn->second;
    Task<std::string> sender = create_task(send_all(writer, data, chunk_max));
    bool sender_done = false;
    try {
        while (out.received.size() < data.size()) {
            std::string got = co_await reader.read(65536);
            if (got.empty()) throw EOFError();
            out.received += got;
        }
        sender_done = true;
        std::string send_error = co_await sender;
        if (!send_error.empty()) throw std::runtime_error(send_error);
        writer.close();
        co_await writer.wait_closed();
        out.ok = out.received == data;
    } catch (const std::exception& e) {
        out.error = e.what();
    }
    if (!sender_done) {
        sender.cancel();  // harmless if it already ended; awaiting retrieves its outcome
        try {
            co_await sender;
        } catch (...) {  // CancelledError (what we asked for) or the send's own error
        }
    }
    try {
        writer.close();
        co_await writer.wait_closed();
    } catch (const std::exception&) {
    }
    co_return out;
}

}  // namespace asyncio::testing
