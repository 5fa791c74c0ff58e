# Warnings and sanitizers for the project's own targets only: PRIVATE, never pushed onto
# consumers of asyncio::asyncio.
function(asyncio_project_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic)
  if(ASYNCIO_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(ASYNCIO_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=${ASYNCIO_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
    target_link_options(${target} PRIVATE -fsanitize=${ASYNCIO_SANITIZE})
    if(CMAKE_CXX_COMPILER_ID MATCHES "Clang" AND ASYNCIO_SANITIZE MATCHES "undefined")
      # clang 14's UBSan 'function' check cannot compile coroutines ("Cannot represent a
      # difference across sections"); every other UBSan check stays on.
      target_compile_options(${target} PRIVATE -fno-sanitize=function)
    endif()
  endif()
endfunction()
