// Counters of the peer transport: what was refused, dropped or rejected, and why.
//
// Thread safety: TransportCounters is shared by the manager and its connections (all on one
// strand) and read from any thread; every field is an atomic with relaxed ordering (the
// figures are for operators and tests, not for synchronisation). TransportStats is a plain
// snapshot.
#pragma once

#include <atomic>
#include <cstdint>

namespace carbon::node::p2p {

struct TransportStats {
  std::uint64_t connections_accepted = 0;  // inbound TCP connections taken
  std::uint64_t connections_dialed = 0;    // outbound attempts started
  std::uint64_t connections_refused = 0;   // authenticated but not wanted (direction, address)
  std::uint64_t inbound_over_limit = 0;    // closed at once: too many pending handshakes
  std::uint64_t inbound_failed = 0;        // inbound connections closed before authenticating
  std::uint64_t handshakes_completed = 0;
  std::uint64_t handshakes_rejected = 0;  // bad hello/auth: key, chain, version, signature, X25519
  std::uint64_t handshake_timeouts = 0;
  std::uint64_t frames_rejected_oversize = 0;   // header over the limit (connection closed)
  std::uint64_t frames_rejected_decrypt = 0;    // AEAD failure (connection closed)
  std::uint64_t frames_dropped_queue_full = 0;  // send refused: per-peer queue bound
  std::uint64_t frames_dropped_not_connected = 0;
  std::uint64_t frames_dropped_too_large = 0;  // send refused: over kMaxPlaintextBytes
  std::uint64_t messages_sent = 0;             // sealed and queued
  std::uint64_t messages_received = 0;         // opened and delivered
};

struct TransportCounters {
  std::atomic<std::uint64_t> connections_accepted{0};
  std::atomic<std::uint64_t> connections_dialed{0};
  std::atomic<std::uint64_t> connections_refused{0};
  std::atomic<std::uint64_t> inbound_over_limit{0};
  std::atomic<std::uint64_t> inbound_failed{0};
  std::atomic<std::uint64_t> handshakes_completed{0};
  std::atomic<std::uint64_t> handshakes_rejected{0};
  std::atomic<std::uint64_t> handshake_timeouts{0};
  std::atomic<std::uint64_t> frames_rejected_oversize{0};
  std::atomic<std::uint64_t> frames_rejected_decrypt{0};
  std::atomic<std::uint64_t> frames_dropped_queue_full{0};
  std::atomic<std::uint64_t> frames_dropped_not_connected{0};
  std::atomic<std::uint64_t> frames_dropped_too_large{0};
  std::atomic<std::uint64_t> messages_sent{0};
  std::atomic<std::uint64_t> messages_received{0};

  static void bump(std::atomic<std::uint64_t>& counter) {
    counter.fetch_add(1, std::memory_order_relaxed);
  }

  TransportStats snapshot() const {
    auto load = [](const std::atomic<std::uint64_t>& c) {
      return c.load(std::memory_order_relaxed);
    };
    TransportStats s;
    s.connections_accepted = load(connections_accepted);
    s.connections_dialed = load(connections_dialed);
    s.connections_refused = load(connections_refused);
    s.inbound_over_limit = load(inbound_over_limit);
    s.inbound_failed = load(inbound_failed);
    s.handshakes_completed = load(handshakes_completed);
    s.handshakes_rejected = load(handshakes_rejected);
    s.handshake_timeouts = load(handshake_timeouts);
    s.frames_rejected_oversize = load(frames_rejected_oversize);
    s.frames_rejected_decrypt = load(frames_rejected_decrypt);
    s.frames_dropped_queue_full = load(frames_dropped_queue_full);
    s.frames_dropped_not_connected = load(frames_dropped_not_connected);
    s.frames_dropped_too_large = load(frames_dropped_too_large);
    s.messages_sent = load(messages_sent);
    s.messages_received = load(messages_received);
    return s;
  }
};

}  // namespace carbon::node::p2p
