// Chain verification lives in store.cpp (Store::Impl::apply_stream), next to the
// state it guards; this file keeps the helpers that need no store.
#include "change_internal.hpp"
