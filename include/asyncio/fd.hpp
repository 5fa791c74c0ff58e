/// @file
/// open_fd: a Stream over a file descriptor the program already has (CPython's
/// connect_read_pipe / connect_write_pipe, folded into one call).
///
///      int p[2];
///      ::pipe2(p, O_CLOEXEC);
///      asyncio::Stream in = asyncio::open_fd(p[0]);   // owns p[0] from here on
///      asyncio::Stream out = asyncio::open_fd(p[1]);
///      out.write("hello\n");
///      co_await out.drain();
///      std::string line = co_await in.readline();
///
/// Works for pipes, FIFOs, ttys and sockets: anything epoll can watch. The Stream owns the fd:
/// it closes it exactly once (close(), wait_closed(), or the last handle going away). The fd is
/// switched to non-blocking mode; that flag belongs to the open file description, so another
/// process sharing the same pipe or terminal sees it too (as with CPython).
///
/// Regular files and directories are refused (std::invalid_argument): epoll cannot watch them,
/// they are always "ready", and reading them would block the loop; read them with ordinary
/// blocking calls instead. Anything else epoll refuses (e.g. /dev/null) raises std::system_error
/// (EPERM). A bad fd raises std::system_error (EBADF). On any error the fd is closed too: the call
/// always takes ownership.
///
/// Writing to a pipe whose reader has gone raises std::system_error (EPIPE) from drain(), never
/// SIGPIPE: write() on a pipe has no MSG_NOSIGNAL, so the write is made with SIGPIPE blocked on
/// the calling thread, and a SIGPIPE that write raised is consumed before unblocking (a SIGPIPE
/// already pending for other reasons is left alone). The process's SIGPIPE disposition is never
/// changed. Sockets use send(MSG_NOSIGNAL) as every other Stream does.
///
/// get_extra_info("peername") / ("sockname") work only on sockets (std::invalid_argument otherwise).
#pragma once

#include "asyncio/export.hpp"
#include "asyncio/stream.hpp"

namespace asyncio {

/// A Stream over `fd` (pipe, FIFO, tty or socket), which it owns and closes.
ASYNCIO_API Stream open_fd(int fd);

}  // namespace asyncio
