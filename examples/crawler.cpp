// A bounded-concurrency crawler over three local "web sites": Semaphore + task_group + timeout.
//
//   build/release/examples/crawler                    # limit 3 requests, 100 ms per request
//   build/release/examples/crawler --limit 1 --timeout-ms 50
//
// The program starts three tiny servers on 127.0.0.1 (ephemeral ports). A request is one line,
// "GET /path"; the reply is one "link <url>" line per link on that page, then "end" (or
// "error 404"). One page answers too slowly. The crawler starts at site A's "/" and follows
// every link once:
//   - a Semaphore keeps at most --limit requests in flight,
//   - every request runs under asyncio::timeout (the slow page is reported as timed out),
//   - every visit is a child of one task_group: when the group returns, the crawl is complete
//     and no request is left running (a failure would cancel the rest).
// It prints each page's outcome and exits non-zero if the limit was ever exceeded or a page
// was missed.
#include <asyncio/asyncio.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Page {
    int delay_ms = 0;
    std::vector<std::string> links;  // "A/about": site letter and path
};

/// Every page of every site, keyed by "A/path"; filled before the servers start.
using Web = std::map<std::string, Page>;

/// url = "127.0.0.1:PORT/path". The sites' ports, by letter, to build and to print URLs.
struct Sites {
    std::map<char, std::uint16_t> port;
    std::string url(const std::string& link) const {
        return "127.0.0.1:" + std::to_string(port.at(link[0])) + link.substr(1);
    }
    std::string name(const std::string& url) const {  // back to "A/path" for printing
        auto colon = url.find(':');
        auto slash = url.find('/');
        auto p = static_cast<std::uint16_t>(std::stoi(url.substr(colon + 1, slash - colon - 1)));
        for (const auto& [letter, port_of] : port) {
            if (port_of == p) return std::string(1, letter) + url.substr(slash);
        }
        return url;
    }
};

// ---- the sites -----------------------------------------------------------------------------

/// One connection of site `letter`: read "GET /path", answer, close. Parameters by value: the
/// frame outlives the server's callback invocation.
asyncio::Coro<> serve_page(const Web* web, const Sites* sites, char letter, asyncio::Stream reader,
                           asyncio::Stream writer) {
    try {
        std::string line = co_await reader.readline();
        std::string path = line.substr(4, line.size() - 5);  // "GET " ... "\n"
        auto it = web->find(std::string(1, letter) + path);
        if (it == web->end()) {
            writer.write("error 404\n");
        } else {
            co_await asyncio::sleep_ms(it->second.delay_ms);
            for (const std::string& link : it->second.links) writer.write("link " + sites->url(link) + "\n");
            writer.write("end\n");
        }
        co_await writer.drain();
    } catch (const std::exception&) {
        // The crawler gave up on this page (timeout) and closed the connection.
    }
    writer.close();
    co_await writer.wait_closed();
}

// ---- the crawler ---------------------------------------------------------------------------

struct Crawl {
    explicit Crawl(int limit, double timeout_s) : requests(limit), limit(limit), timeout_s(timeout_s) {}
    asyncio::Semaphore requests;  // free request slots
    int limit;
    double timeout_s;
    std::set<std::string> seen;
    std::map<std::string, std::string> outcome;  // url -> "3 links" / "timed out" / "error ..."
    int in_flight = 0;
    int max_in_flight = 0;
};

/// Fetches one page; gives its links. Throws std::runtime_error for an "error" reply.
asyncio::Coro<std::vector<std::string>> fetch(std::string url) {
    auto colon = url.find(':');
    auto slash = url.find('/');
    auto port = static_cast<std::uint16_t>(std::stoi(url.substr(colon + 1, slash - colon - 1)));
    auto [reader, writer] = co_await asyncio::open_connection(url.substr(0, colon), port);
    writer.write("GET " + url.substr(slash) + "\n");
    co_await writer.drain();
    std::vector<std::string> links;
    for (;;) {
        std::string line = co_await reader.readline();
        if (line.empty() || line == "end\n") break;
        if (line.rfind("error ", 0) == 0) throw std::runtime_error(line.substr(0, line.size() - 1));
        links.push_back(line.substr(5, line.size() - 6));  // "link " ... "\n"
    }
    writer.close();
    co_await writer.wait_closed();
    co_return links;
}

/// Visits `url` within the request limit and the deadline, then schedules its unseen links as
/// more children of the same group.
asyncio::Coro<> visit(Crawl& crawl, asyncio::TaskGroup& tg, std::string url) {
    std::vector<std::string> links;
    {
        auto slot = co_await crawl.requests;  // waits while `limit` requests are in flight
        crawl.max_in_flight = std::max(crawl.max_in_flight, ++crawl.in_flight);
        try {
            links = co_await asyncio::timeout(crawl.timeout_s, fetch(url));
            crawl.outcome[url] = std::to_string(links.size()) + (links.size() == 1 ? " link" : " links");
        } catch (const asyncio::TimeoutError&) {
            crawl.outcome[url] = "timed out";
        } catch (const std::exception& e) {
            crawl.outcome[url] = e.what();
        }
        --crawl.in_flight;
    }  // the slot is free again
    for (const std::string& link : links) {
        if (crawl.seen.insert(link).second) tg.create_task(visit(crawl, tg, link));
    }
}

asyncio::Coro<int> run_crawl(int limit, int timeout_ms) {
    Web web{
        {"A/", {1, {"A/about", "B/", "C/"}}},
        {"A/about", {3, {"A/", "B/docs", "A/team"}}},
        {"A/team", {2, {"A/", "C/blog"}}},
        {"B/", {2, {"B/docs", "B/api", "A/"}}},
        {"B/docs", {1, {"B/api", "A/missing"}}},
        {"B/api", {4, {"B/"}}},
        {"C/", {1, {"C/blog", "C/slow"}}},
        {"C/blog", {2, {"C/", "B/api"}}},
        {"C/slow", {10 * timeout_ms, {"C/"}}},  // answers long after the deadline
    };
    Sites sites;
    std::vector<asyncio::Server> servers;
    for (char letter : {'A', 'B', 'C'}) {
        // Named, not written inside the co_await: g++ 12 destroys such temporaries twice.
        asyncio::ConnectionCallback callback = [&web, &sites, letter](asyncio::Stream r, asyncio::Stream w) {
            return serve_page(&web, &sites, letter, std::move(r), std::move(w));
        };
        asyncio::Server server = co_await asyncio::start_server(callback, "127.0.0.1", 0, 64);
        sites.port[letter] = server.port();
        servers.push_back(std::move(server));
    }

    Crawl crawl(limit, timeout_ms / 1000.0);
    std::string start = sites.url("A/");
    crawl.seen.insert(start);
    double t0 = asyncio::get_event_loop().time();
    co_await asyncio::task_group([&](asyncio::TaskGroup& tg) -> asyncio::Coro<> {
        tg.create_task(visit(crawl, tg, start));
        co_return;
    });
    double took = asyncio::get_event_loop().time() - t0;

    for (asyncio::Server& s : servers) s.close();
    for (asyncio::Server& s : servers) co_await s.wait_closed();

    std::map<std::string, std::string> by_name;
    for (const auto& [url, what] : crawl.outcome) by_name[sites.name(url)] = what;
    for (const auto& [name, what] : by_name) std::printf("%-10s %s\n", name.c_str(), what.c_str());
    std::printf("%zu pages in %.0f ms, at most %d of %d requests in flight\n", by_name.size(), took * 1000,
                crawl.max_in_flight, limit);

    bool ok = crawl.max_in_flight <= limit && by_name.size() == web.size() + 1  // + A/missing
              && by_name["C/slow"] == "timed out" && by_name["A/missing"] == "error 404";
    co_return ok ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    int limit = 3;
    int timeout_ms = 100;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--limit") == 0) {
            limit = std::atoi(argv[i + 1]);
        } else if (std::strcmp(argv[i], "--timeout-ms") == 0) {
            timeout_ms = std::atoi(argv[i + 1]);
        } else {
            std::fprintf(stderr, "usage: %s [--limit N] [--timeout-ms T]\n", argv[0]);
            return 2;
        }
    }
    if (limit < 1 || timeout_ms < 1) {
        std::fprintf(stderr, "--limit and --timeout-ms must be positive\n");
        return 2;
    }
    return asyncio::run(run_crawl(limit, timeout_ms));
}
