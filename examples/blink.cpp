// The seed's own example: two LEDs blinking at different rates, as two tasks.
//
// A terminal LED stands in for MicroPython's Pin / pyb.LED: each on/off change redraws one
// status line with the elapsed time and both LEDs' states. Runs 10 s, like the seed.
//
//   build/release/examples/blink               # 10 seconds
//   build/release/examples/blink --seconds 2   # shorter
//   build/release/examples/blink --plain       # one line per change (for logs and pipes)
#include <asyncio/asyncio.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

/// Shared display of every LED: one status line, redrawn on each change.
class Panel {
public:
    explicit Panel(bool plain) : plain_(plain), start_(std::chrono::steady_clock::now()) {}

    void show(int id, bool on) {
        state_[id] = on;
        ++changes_[id];
        double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
        std::printf("%s%6.3f s  LED1 %s  LED2 %s  (changes: %d, %d)%s", plain_ ? "" : "\r", elapsed,
                    state_[1] ? "[*]" : "[ ]", state_[2] ? "[*]" : "[ ]", changes_[1], changes_[2],
                    plain_ ? "\n" : "");
        std::fflush(stdout);
    }
    [[nodiscard]] int changes(int id) const { return changes_[id]; }

private:
    bool plain_;
    std::chrono::steady_clock::time_point start_;
    bool state_[3] = {false, false, false};
    int changes_[3] = {0, 0, 0};
};

/// What the seed's Pin(n) / pyb.LED(n) offers to blink(): on() and off().
class Led {
public:
    Led(int id, Panel& panel) : id_(id), panel_(panel) {}
    void on() { panel_.show(id_, true); }
    void off() { panel_.show(id_, false); }

private:
    int id_;
    Panel& panel_;
};

// The seed's blink(), line for line. `led` is a reference: the Led objects live in main(),
// which outlives the loop run, so the reference cannot dangle (docs/pitfalls.md).
// [snippet blink]
asyncio::Coro<> blink(Led& led, int period_ms) {
    for (;;) {
        led.on();
        co_await asyncio::sleep_ms(5);
        led.off();
        co_await asyncio::sleep_ms(period_ms);
    }
}

asyncio::Coro<> main_task(Led& led1, Led& led2, int run_ms) {
    asyncio::create_task(blink(led1, 700));
    asyncio::create_task(blink(led2, 400));
    co_await asyncio::sleep_ms(run_ms);
}
// [end snippet blink]

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr, "usage: %s [--seconds N] [--plain]\n", argv0);
    std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
    double seconds = 10;
    bool plain = isatty(STDOUT_FILENO) == 0;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
            char* end = nullptr;
            seconds = std::strtod(argv[++i], &end);
            if (end == argv[i] || *end != '\0' || !(seconds >= 0)) usage(argv[0]);
        } else if (std::strcmp(argv[i], "--plain") == 0) {
            plain = true;
        } else {
            usage(argv[0]);
        }
    }

    Panel panel(plain);
    Led led1{1, panel}, led2{2, panel};
    asyncio::run(main_task(led1, led2, static_cast<int>(seconds * 1000)));
    std::printf("%sdone after %.1f s: LED1 changed %d times, LED2 %d times\n", plain ? "" : "\n", seconds,
                panel.changes(1), panel.changes(2));
    // The blink tasks are still queued (as after MicroPython's run()); closing the loop
    // destroys them before the LEDs go out of scope.
    asyncio::get_event_loop().close();
    return 0;
}
