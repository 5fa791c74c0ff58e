// create_subprocess_exec / create_subprocess_shell and Process (see asyncio/subprocess.hpp).
#include "asyncio/subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <tuple>

#include "asyncio/errors.hpp"
#include "asyncio/fd.hpp"
#include "asyncio/gather.hpp"
#include "core/loop_impl.hpp"
#include "core/system_error.hpp"
#include "proc/child_watcher.hpp"

extern char** environ;

namespace asyncio {

namespace {

/// An fd closed when the guard goes, unless released.
class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) noexcept : fd_(fd) {}
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        reset(std::exchange(o.fd_, -1));
        return *this;
    }
    ~Fd() { reset(); }
    [[nodiscard]] int get() const noexcept { return fd_; }
    int release() noexcept { return std::exchange(fd_, -1); }
    void reset(int fd = -1) noexcept {
        if (fd_ >= 0) ::close(fd_);
        fd_ = fd;
    }

private:
    int fd_ = -1;
};

/// One pipe for a child's stream: `child` goes to the child, `parent` becomes a Stream.
struct PipeEnds {
    Fd parent;
    Fd child;
};

PipeEnds make_pipe(bool child_reads) {
    int p[2];
    // Close-on-exec on both ends: the child gets its end through dup2 (which clears the flag
    // on the copy); no other child spawned meanwhile by another thread inherits either.
    if (int injected = detail::g_stdio_pipe_errno.load(std::memory_order_relaxed); injected != 0) {
        detail::throw_system_error(injected, "pipe2 (subprocess stdio)");
    }
    if (::pipe2(p, O_CLOEXEC) != 0) detail::throw_system_error(errno, "pipe2 (subprocess stdio)");
    PipeEnds ends;
    ends.parent.reset(child_reads ? p[1] : p[0]);
    ends.child.reset(child_reads ? p[0] : p[1]);
    return ends;
}

/// posix_spawn's file actions and attributes, destroyed with the object.
class SpawnSetup {
public:
    SpawnSetup() {
        check(posix_spawn_file_actions_init(&actions_), "posix_spawn_file_actions_init");
        if (int e = posix_spawnattr_init(&attr_); e != 0) {
            posix_spawn_file_actions_destroy(&actions_);
            detail::throw_system_error(e, "posix_spawnattr_init");
        }
    }
    ~SpawnSetup() {
        posix_spawnattr_destroy(&attr_);
        posix_spawn_file_actions_destroy(&actions_);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;

    static void check(int err, const char* what) {
        if (err != 0) detail::throw_system_error(err, what);
    }
    posix_spawn_file_actions_t* actions() noexcept { return &actions_; }
    posix_spawnattr_t* attr() noexcept { return &attr_; }

private:
    posix_spawn_file_actions_t actions_;
    posix_spawnattr_t attr_;
};

/// PATH lookup in the child's environment (CPython searches the PATH of `env` when given).
std::string find_in_path(const std::string& program, std::string_view path) {
    int first_error = ENOENT;
    std::size_t start = 0;
    for (;;) {
        std::size_t end = path.find(':', start);
        std::string_view dir = path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        std::string candidate = dir.empty() ? program : std::string(dir) + "/" + program;
        struct stat st {};
        if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
            if (::access(candidate.c_str(), X_OK) == 0) return candidate;
            first_error = EACCES;
        }
        if (end == std::string_view::npos) break;
        start = end + 1;
    }
    detail::throw_system_error(first_error, "create_subprocess_exec " + program + " (searched PATH)");
}

Process spawn(const std::string& program, const std::vector<std::string>& args, const ProcessOptions& opt,
              const char* what) {
    if (program.empty()) throw std::invalid_argument(std::string(what) + ": the program name is empty");
    if (opt.in == STDOUT || opt.out == STDOUT) {
        throw std::invalid_argument(std::string(what) + ": STDOUT is only valid for err");
    }
    for (const std::string* s : {&program, &opt.cwd}) {
        if (s->find('\0') != std::string::npos) throw std::invalid_argument(std::string(what) + ": embedded NUL");
    }

    // argv and envp.
    std::vector<char*> argv;
    argv.reserve(args.size() + 2);
    argv.push_back(const_cast<char*>(program.c_str()));
    for (const std::string& a : args) {
        if (a.find('\0') != std::string::npos) throw std::invalid_argument(std::string(what) + ": embedded NUL in an argument");
        argv.push_back(const_cast<char*>(a.c_str()));
    }
    argv.push_back(nullptr);
    std::vector<std::string> env_strings;
    std::vector<char*> envp;
    std::string path_to_search;
    bool search_env_path = false;
    if (opt.env) {
        for (const auto& [k, v] : *opt.env) {
            if (k.empty() || k.find('=') != std::string::npos || k.find('\0') != std::string::npos ||
                v.find('\0') != std::string::npos) {
                throw std::invalid_argument(std::string(what) + ": bad environment variable name or value: " + k);
            }
            env_strings.push_back(k + "=" + v);
            if (k == "PATH") {
                path_to_search = v;
                search_env_path = true;
            }
        }
        for (std::string& s : env_strings) envp.push_back(s.data());
        envp.push_back(nullptr);
    }
    char** child_env = opt.env ? envp.data() : environ;

    std::string path;  // resolved program, when we search PATH ourselves
    const bool has_slash = program.find('/') != std::string::npos;
    if (!has_slash && search_env_path) path = find_in_path(program, path_to_search);

    // Standard streams.
    SpawnSetup setup;
    posix_spawn_file_actions_t* fa = setup.actions();
    PipeEnds in_pipe, out_pipe, err_pipe;
    const Redirect modes[3] = {opt.in, opt.out, opt.err};
    PipeEnds* pipes[3] = {&in_pipe, &out_pipe, &err_pipe};
    for (int fd = 0; fd < 3; ++fd) {
        switch (modes[fd]) {
            case Redirect::INHERIT:
                break;
            case Redirect::PIPE:
                *pipes[fd] = make_pipe(fd == 0);
                SpawnSetup::check(posix_spawn_file_actions_adddup2(fa, pipes[fd]->child.get(), fd),
                                  "posix_spawn_file_actions_adddup2");
                break;
            case Redirect::DEVNULL:
                SpawnSetup::check(
                    posix_spawn_file_actions_addopen(fa, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0),
                    "posix_spawn_file_actions_addopen");
                break;
            case Redirect::STDOUT:  // err only (checked above): after stdout is in place
                SpawnSetup::check(posix_spawn_file_actions_adddup2(fa, 1, 2), "posix_spawn_file_actions_adddup2");
                break;
        }
    }
    if (!opt.cwd.empty()) {
        SpawnSetup::check(posix_spawn_file_actions_addchdir_np(fa, opt.cwd.c_str()), "posix_spawn_file_actions_addchdir_np");
    }
    // The child keeps 0, 1 and 2 only, whatever other fds lack close-on-exec.
    SpawnSetup::check(posix_spawn_file_actions_addclosefrom_np(fa, 3), "posix_spawn_file_actions_addclosefrom_np");

    // A clean signal state: empty mask; SIGPIPE and SIGXFSZ back to default (the parent may
    // ignore them; CPython's restore_signals). Handled signals are reset by exec itself.
    posix_spawnattr_t* attr = setup.attr();
    sigset_t none, defaults;
    sigemptyset(&none);
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGXFSZ);
    SpawnSetup::check(posix_spawnattr_setsigmask(attr, &none), "posix_spawnattr_setsigmask");
    SpawnSetup::check(posix_spawnattr_setsigdefault(attr, &defaults), "posix_spawnattr_setsigdefault");
    SpawnSetup::check(posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF),
                      "posix_spawnattr_setflags");

    // Spawn. glibc's posix_spawn reports exec's errno (ENOENT, EACCES, ...) as its result.
    pid_t pid = -1;
    int err;
    if (!path.empty() || has_slash) {
        err = ::posix_spawn(&pid, path.empty() ? program.c_str() : path.c_str(), fa, attr, argv.data(), child_env);
    } else {
        err = ::posix_spawnp(&pid, program.c_str(), fa, attr, argv.data(), child_env);
    }
    if (err != 0) {
        std::string where = opt.cwd.empty() ? "" : " (cwd " + opt.cwd + ")";
        detail::throw_system_error(err, std::string(what) + " " + program + where);
    }
    in_pipe.child.reset();
    out_pipe.child.reset();
    err_pipe.child.reset();

    // From here the child runs: on any failure, kill and reap it before throwing.
    std::shared_ptr<detail::ProcessState> state;
    try {
        bool by_pidfd = false;
        Fd exit_fd(detail::open_exit_fd(pid, by_pidfd));
        state = std::make_shared<detail::ProcessState>(pid, exit_fd.get(), by_pidfd);
        exit_fd.release();
        detail::LoopInternals::impl(get_event_loop()).children.add(state);
    } catch (...) {
        ::kill(pid, SIGKILL);
        if (state) {
            state->reap_blocking();  // also closes the exit fd
        } else {
            while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
            }
        }
        throw;
    }
    // open_fd takes ownership of each fd (and closes it on failure); after the child is being
    // watched, a failure here leaves it to be reaped normally.
    Stream in_stream, out_stream, err_stream;
    if (in_pipe.parent.get() >= 0) in_stream = open_fd(in_pipe.parent.release());
    if (out_pipe.parent.get() >= 0) out_stream = open_fd(out_pipe.parent.release());
    if (err_pipe.parent.get() >= 0) err_stream = open_fd(err_pipe.parent.release());
    return Process(std::move(state), std::move(in_stream), std::move(out_stream), std::move(err_stream));
}

// ---- communicate ----------------------------------------------------------------------------

Coro<bool> feed_stdin(Stream in, std::string input) {
    if (!in) co_return false;
    try {
        if (!input.empty()) {
            in.write(input);
            co_await in.drain();
        }
    } catch (const std::system_error& e) {
        // The child exited (or closed stdin) without reading everything: not an error.
        if (e.code().value() != EPIPE && e.code().value() != ECONNRESET) throw;
    }
    in.close();
    co_return true;
}

Coro<std::string> read_to_end(Stream s) {
    if (!s) co_return std::string();
    std::string data = co_await s.read(-1);
    co_return data;
}

Coro<int> wait_exit(std::shared_ptr<detail::ProcessState> s) {
    co_await s->exited.wait();
    co_return *s->returncode;
}

Coro<std::pair<std::string, std::string>> communicate_with(std::shared_ptr<detail::ProcessState> s, Stream in,
                                                             Stream out, Stream err, std::string input) {
    auto results = co_await gather(feed_stdin(in, std::move(input)), read_to_end(out), read_to_end(err));
    co_await s->exited.wait();
    co_return std::pair<std::string, std::string>(std::move(std::get<1>(results)), std::move(std::get<2>(results)));
}

}  // namespace

// ---- Process ----------------------------------------------------------------------------------

const detail::ProcessState& Process::state() const {
    if (!state_) throw RuntimeError("empty Process handle (not made by create_subprocess_*)");
    return *state_;
}

pid_t Process::pid() const { return state().pid; }

std::optional<int> Process::returncode() const { return state().returncode; }

Coro<int> Process::wait() const {
    (void)state();
    return wait_exit(state_);
}

Coro<std::pair<std::string, std::string>> Process::communicate(std::string input) const {
    (void)state();
    return communicate_with(state_, in, out, err, std::move(input));
}

Coro<std::pair<std::string, std::string>> Process::communicate() const {
    std::string no_input;
    return communicate(std::move(no_input));
}

void Process::send_signal(int sig) const {
    const detail::ProcessState& s = state();
    if (s.returncode) return;  // reaped: the pid may be someone else's now
    if (::kill(s.pid, sig) != 0) {
        detail::throw_system_error(errno, "send_signal(" + std::to_string(sig) + ") to pid " + std::to_string(s.pid));
    }
}

void Process::terminate() const { send_signal(SIGTERM); }

void Process::kill() const { send_signal(SIGKILL); }

// ---- create_subprocess_* ----------------------------------------------------------------------

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args, ProcessOptions options) {
    co_return spawn(program, args, options, "create_subprocess_exec");
}

Coro<Process> create_subprocess_exec(std::string program, std::vector<std::string> args) {
    ProcessOptions options;
    return create_subprocess_exec(std::move(program), std::move(args), std::move(options));
}

Coro<Process> create_subprocess_exec(std::string program) {
    std::vector<std::string> args;
    ProcessOptions options;
    return create_subprocess_exec(std::move(program), std::move(args), std::move(options));
}

Coro<Process> create_subprocess_shell(std::string cmd, ProcessOptions options) {
    std::vector<std::string> args{"-c", std::move(cmd)};
    co_return spawn("/bin/sh", args, options, "create_subprocess_shell");
}

Coro<Process> create_subprocess_shell(std::string cmd) {
    ProcessOptions options;
    return create_subprocess_shell(std::move(cmd), std::move(options));
}

}  // namespace asyncio
