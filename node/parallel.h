// parallel_for: one job split over the calling thread and a pool's idle threads.
//
// For work on the critical path of a round (checking the signatures in a proposal the node had
// not seen by gossip): the calling thread works through the items itself and helpers posted to
// `pool` take items too when a pool thread is free. The caller never waits for a helper to
// *start*, only for items already taken to finish, so it cannot deadlock even when the caller
// is itself a thread of `pool` and every other thread of it is busy.
//
// Thread safety: `work` is called concurrently from several threads.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <cstddef>
#include <functional>

namespace carbon::node {

// Calls work(i) for every i in [0, count) unless a call returns false or throws, after which no
// new call starts (those running finish). Returns whether every call made returned true; if one
// threw, rethrows that exception once no call is running any more. `helpers`: at most this many
// pool tasks join in (0: the caller does everything).
bool parallel_for(boost::asio::thread_pool& pool, std::size_t helpers, std::size_t count,
                  const std::function<bool(std::size_t)>& work);

}  // namespace carbon::node
