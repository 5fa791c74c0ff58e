#!/bin/sh
# Doxygen INPUT_FILTER (docs/Doxyfile.in): Doxygen 1.9 takes `Task<T> : public Task<void>`
# for a recursive class relation and warns (which fails the build); it reads the declaration
# without the base instead. Task<T>'s page says which members come from Task<>.
exec sed -e 's/^class Task : public Task<void> {$/class Task {/' "$1"
