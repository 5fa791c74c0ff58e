# The two libraries built from the one set of objects (asyncio_objects, CMakeLists.txt):
#   asyncio         static, libasyncio.a   — asyncio::asyncio, what the tests link
#   asyncio_shared  shared, libasyncio.so  — asyncio::asyncio_shared; SONAME libasyncio.so.MAJOR.MINOR
# Both compile with -fvisibility=hidden: only what the public headers mark ASYNCIO_API
# (<asyncio/export.hpp>) is exported from the shared library, so src/'s internals stay private.
option(ASYNCIO_BUILD_SHARED "Also build the shared library libasyncio.so" ON)

# <asyncio/version.hpp> is generated from project(VERSION) into the build tree.
configure_file(cmake/version.hpp.in ${PROJECT_BINARY_DIR}/include/asyncio/version.hpp @ONLY)

# What compiling against asyncio needs, for the objects and both libraries alike.
function(asyncio_library_interface target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_include_directories(${target}
    PUBLIC $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>
           $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(${target} PUBLIC Threads::Threads)
  if(NOT ASYNCIO_FRAME_POOL)
    # PUBLIC: the inline allocation code in the headers must match the library's.
    target_compile_definitions(${target} PUBLIC ASYNCIO_SYSTEM_FRAME_ALLOCATOR)
  endif()
  asyncio_project_options(${target})
endfunction()

asyncio_library_interface(asyncio_objects)
target_include_directories(asyncio_objects PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(asyncio_objects PRIVATE OpenSSL::SSL OpenSSL::Crypto)
set_target_properties(asyncio_objects PROPERTIES POSITION_INDEPENDENT_CODE ON CXX_VISIBILITY_PRESET hidden)

add_library(asyncio STATIC $<TARGET_OBJECTS:asyncio_objects>)
add_library(asyncio::asyncio ALIAS asyncio)
asyncio_library_interface(asyncio)
target_link_libraries(asyncio PRIVATE OpenSSL::SSL OpenSSL::Crypto)

if(ASYNCIO_BUILD_SHARED)
  add_library(asyncio_shared SHARED $<TARGET_OBJECTS:asyncio_objects>)
  add_library(asyncio::asyncio_shared ALIAS asyncio_shared)
  asyncio_library_interface(asyncio_shared)
  target_link_libraries(asyncio_shared PRIVATE OpenSSL::SSL OpenSSL::Crypto)
  set_target_properties(asyncio_shared PROPERTIES
    OUTPUT_NAME asyncio
    VERSION ${PROJECT_VERSION}
    SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})
  if(NOT ASYNCIO_SANITIZE)
    # Every symbol the library uses must resolve when it is linked, not in a user's program.
    target_link_options(asyncio_shared PRIVATE LINKER:--no-undefined)
  endif()
endif()
