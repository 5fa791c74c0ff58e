// The loop's exception handler: MicroPython's report of an exception nobody retrieved.
#include <cxxabi.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <typeinfo>

#include "asyncio/loop.hpp"

namespace asyncio {

namespace {

std::string demangle(const char* name) {
    int status = 0;
    std::unique_ptr<char, void (*)(void*)> out(abi::__cxa_demangle(name, nullptr, nullptr, &status), std::free);
    return status == 0 && out ? std::string(out.get()) : std::string(name);
}

// "Type: what()" for the exception, as Python prints "ValueError: boom".
std::string describe(const std::exception_ptr& e) {
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        return demangle(typeid(ex).name()) + ": " + ex.what();
    } catch (const CancelledError& ex) {
        return std::string("asyncio::CancelledError: ") + ex.what();
    } catch (...) {
        const std::type_info* type = abi::__cxa_current_exception_type();
        return type != nullptr ? demangle(type->name()) : std::string("unknown exception");
    }
}

}  // namespace

void Loop::default_exception_handler(const ExceptionContext& context) {
    std::string text = context.message + "\n";
    if (context.future) {
        char line[64];
        std::snprintf(line, sizeof line, "future: <Task %p>\n", static_cast<void*>(context.future.base()));
        text += line;
    }
    if (context.exception) text += describe(context.exception) + "\n";
    std::fputs(text.c_str(), stderr);
}

void Loop::call_exception_handler(const ExceptionContext& context) {
    if (handler_) {
        handler_(*this, context);
    } else {
        default_exception_handler(context);
    }
}

}  // namespace asyncio
