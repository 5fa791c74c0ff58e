// to_thread's link to the loop: a job is queued on the calling thread's loop's worker pool.
#include "asyncio/threads.hpp"
#include "core/fork.hpp"
#include "core/loop_access.hpp"
#include "core/loop_impl.hpp"

namespace asyncio::detail {

void submit_to_thread(CallbackNode* job) {
    Loop& loop = tls_loop != nullptr ? *tls_loop : get_event_loop();
    if (LoopInternals::closing(loop)) {
        job->release();
        if (LoopInternals::inherited(loop)) raise_inherited_loop();
        throw RuntimeError("to_thread: the event loop is closed");
    }
    job->loop = &loop;
    LoopInternals::impl(loop).pool.submit(job);
}

}  // namespace asyncio::detail
