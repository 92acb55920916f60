#include "core/ed25519_batch.h"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <vector>

#include "core/assert.h"

namespace carbon::core {
namespace {

// ------------------------------------------------------------------ GF(2^255 - 19)
// Five limbs of 51 bits, little-endian. Every operation but add_to_mul returns carried limbs
// below 2^52; add_to_mul's (below 2^53) only ever go into mul() or sq(), whose inputs may be
// up to 2^54 with every 128-bit sum in range. sub() needs a carried g.

using u64 = std::uint64_t;
using u128 = unsigned __int128;
constexpr u64 kMask51 = (u64{1} << 51) - 1;

// 8 little-endian bytes as a word, and back.
u64 load_le64(const std::uint8_t* bytes) {
  u64 out = 0;
  for (std::size_t b = 0; b < 8; ++b) out |= u64{bytes[b]} << (8 * b);
  return out;
}
void store_le64(u64 word, std::uint8_t* bytes) {
  for (std::size_t b = 0; b < 8; ++b) bytes[b] = static_cast<std::uint8_t>(word >> (8 * b));
}

struct Fe {
  u64 v[5];
};

constexpr Fe kZero = {{0, 0, 0, 0, 0}};
constexpr Fe kOne = {{1, 0, 0, 0, 0}};
// d = -121665/121666, 2d and sqrt(-1) (= 2^((p-1)/4)) mod p.
constexpr Fe kD = {{0x34dca135978a3, 0x1a8283b156ebd, 0x5e7a26001c029, 0x739c663a03cbb, 0x52036cee2b6ff}};
constexpr Fe kD2 = {{0x69b9426b2f159, 0x35050762add7a, 0x3cf44c0038052, 0x6738cc7407977, 0x2406d9dc56dff}};
constexpr Fe kSqrtM1 = {{0x61b274a0ea0b0, 0xd5a5fc8f189d, 0x7ef5e9cbd0c60, 0x78595a6804c9e, 0x2b8324804fc1d}};

inline void carry(Fe& h) {
  u64 c;
  c = h.v[0] >> 51; h.v[0] &= kMask51; h.v[1] += c;
  c = h.v[1] >> 51; h.v[1] &= kMask51; h.v[2] += c;
  c = h.v[2] >> 51; h.v[2] &= kMask51; h.v[3] += c;
  c = h.v[3] >> 51; h.v[3] &= kMask51; h.v[4] += c;
  c = h.v[4] >> 51; h.v[4] &= kMask51; h.v[0] += c * 19;
}

inline Fe add(const Fe& f, const Fe& g) {
  Fe h;
  for (int i = 0; i < 5; ++i) h.v[i] = f.v[i] + g.v[i];
  carry(h);
  return h;
}

// f + g without the carry, for a sum that goes straight into mul() or sq() (limbs below 2^53).
inline Fe add_to_mul(const Fe& f, const Fe& g) {
  Fe h;
  for (int i = 0; i < 5; ++i) h.v[i] = f.v[i] + g.v[i];
  return h;
}

// f - g + 4p: g's limbs are below 2^52 < 4p's, so nothing underflows.
inline Fe sub(const Fe& f, const Fe& g) {
  constexpr u64 k4p0 = 0x1FFFFFFFFFFFB4, k4pi = 0x1FFFFFFFFFFFFC;
  Fe h;
  h.v[0] = f.v[0] + k4p0 - g.v[0];
  for (int i = 1; i < 5; ++i) h.v[i] = f.v[i] + k4pi - g.v[i];
  carry(h);
  return h;
}

inline Fe neg(const Fe& f) { return sub(kZero, f); }

// The five 128-bit column sums of a product, carried into limbs (the top carry folds back
// times 19, since 2^255 = 19 mod p).
[[gnu::always_inline]] inline Fe carry_products(u128 r0, u128 r1, u128 r2, u128 r3, u128 r4) {
  r1 += (u64)(r0 >> 51);
  r2 += (u64)(r1 >> 51);
  r3 += (u64)(r2 >> 51);
  r4 += (u64)(r3 >> 51);
  Fe h;
  h.v[0] = (u64)r0 & kMask51;
  h.v[1] = (u64)r1 & kMask51;
  h.v[2] = (u64)r2 & kMask51;
  h.v[3] = (u64)r3 & kMask51;
  h.v[4] = (u64)r4 & kMask51;
  h.v[0] += (u64)(r4 >> 51) * 19;
  h.v[1] += h.v[0] >> 51;
  h.v[0] &= kMask51;
  return h;
}

[[gnu::always_inline]] inline Fe mul(const Fe& f, const Fe& g) {
  const u64 g1_19 = 19 * g.v[1], g2_19 = 19 * g.v[2], g3_19 = 19 * g.v[3], g4_19 = 19 * g.v[4];
  const u64 f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const u128 r0 = (u128)f0 * g.v[0] + (u128)f1 * g4_19 + (u128)f2 * g3_19 + (u128)f3 * g2_19 + (u128)f4 * g1_19;
  const u128 r1 = (u128)f0 * g.v[1] + (u128)f1 * g.v[0] + (u128)f2 * g4_19 + (u128)f3 * g3_19 + (u128)f4 * g2_19;
  const u128 r2 = (u128)f0 * g.v[2] + (u128)f1 * g.v[1] + (u128)f2 * g.v[0] + (u128)f3 * g4_19 + (u128)f4 * g3_19;
  const u128 r3 = (u128)f0 * g.v[3] + (u128)f1 * g.v[2] + (u128)f2 * g.v[1] + (u128)f3 * g.v[0] + (u128)f4 * g4_19;
  const u128 r4 = (u128)f0 * g.v[4] + (u128)f1 * g.v[3] + (u128)f2 * g.v[2] + (u128)f3 * g.v[1] + (u128)f4 * g.v[0];
  return carry_products(r0, r1, r2, r3, r4);
}

// Dedicated squaring: 15 products instead of 25.
[[gnu::always_inline]] inline Fe sq(const Fe& f) {
  const u64 f0 = f.v[0], f1 = f.v[1], f2 = f.v[2], f3 = f.v[3], f4 = f.v[4];
  const u64 f0_2 = 2 * f0, f1_2 = 2 * f1;
  const u64 f1_38 = 38 * f1, f2_38 = 38 * f2, f3_38 = 38 * f3;
  const u64 f3_19 = 19 * f3, f4_19 = 19 * f4;
  const u128 r0 = (u128)f0 * f0 + (u128)f1_38 * f4 + (u128)f2_38 * f3;
  const u128 r1 = (u128)f0_2 * f1 + (u128)f2_38 * f4 + (u128)f3_19 * f3;
  const u128 r2 = (u128)f0_2 * f2 + (u128)f1 * f1 + (u128)f3_38 * f4;
  const u128 r3 = (u128)f0_2 * f3 + (u128)f1_2 * f2 + (u128)f4_19 * f4;
  const u128 r4 = (u128)f0_2 * f4 + (u128)f1_2 * f3 + (u128)f2 * f2;
  return carry_products(r0, r1, r2, r3, r4);
}

Fe sq_n(Fe f, int n) {
  for (int i = 0; i < n; ++i) f = sq(f);
  return f;
}

// The unique representative below p, as 32 little-endian bytes.
std::array<std::uint8_t, 32> to_bytes(Fe h) {
  carry(h);
  carry(h);  // limbs now below 2^51 except h0 below 2^51 + 19*2
  // q = 1 exactly when h >= p.
  u64 q = (h.v[0] + 19) >> 51;
  q = (h.v[1] + q) >> 51;
  q = (h.v[2] + q) >> 51;
  q = (h.v[3] + q) >> 51;
  q = (h.v[4] + q) >> 51;
  h.v[0] += 19 * q;
  u64 c;
  c = h.v[0] >> 51; h.v[0] &= kMask51; h.v[1] += c;
  c = h.v[1] >> 51; h.v[1] &= kMask51; h.v[2] += c;
  c = h.v[2] >> 51; h.v[2] &= kMask51; h.v[3] += c;
  c = h.v[3] >> 51; h.v[3] &= kMask51; h.v[4] += c;
  h.v[4] &= kMask51;
  std::array<std::uint8_t, 32> out{};
  // Pack 5 x 51 bits into 255 bits.
  const u64 w0 = h.v[0] | (h.v[1] << 51);
  const u64 w1 = (h.v[1] >> 13) | (h.v[2] << 38);
  const u64 w2 = (h.v[2] >> 26) | (h.v[3] << 25);
  const u64 w3 = (h.v[3] >> 39) | (h.v[4] << 12);
  const u64 words[4] = {w0, w1, w2, w3};
  for (std::size_t i = 0; i < 4; ++i) store_le64(words[i], out.data() + 8 * i);
  return out;
}

// The low 255 bits of 32 little-endian bytes (the top bit is the caller's).
Fe from_bytes(const std::uint8_t* s) {
  const u64 w[4] = {load_le64(s), load_le64(s + 8), load_le64(s + 16), load_le64(s + 24)};
  Fe h;
  h.v[0] = w[0] & kMask51;
  h.v[1] = ((w[0] >> 51) | (w[1] << 13)) & kMask51;
  h.v[2] = ((w[1] >> 38) | (w[2] << 26)) & kMask51;
  h.v[3] = ((w[2] >> 25) | (w[3] << 39)) & kMask51;
  h.v[4] = (w[3] >> 12) & kMask51;
  return h;
}

bool is_zero(const Fe& f) {
  const auto bytes = to_bytes(f);
  std::uint8_t any = 0;
  for (auto b : bytes) any |= b;
  return any == 0;
}

bool equal(const Fe& f, const Fe& g) { return to_bytes(f) == to_bytes(g); }

bool is_negative(const Fe& f) { return (to_bytes(f)[0] & 1) != 0; }

// z^((p - 5) / 8) = z^(2^252 - 3).
Fe pow22523(const Fe& z) {
  const Fe z2 = sq(z);                       // 2
  const Fe z9 = mul(sq_n(z2, 2), z);         // 9
  const Fe z11 = mul(z9, z2);                // 11
  const Fe z_5_0 = mul(sq(z11), z9);         // 2^5 - 1
  const Fe z_10_0 = mul(sq_n(z_5_0, 5), z_5_0);
  const Fe z_20_0 = mul(sq_n(z_10_0, 10), z_10_0);
  const Fe z_40_0 = mul(sq_n(z_20_0, 20), z_20_0);
  const Fe z_50_0 = mul(sq_n(z_40_0, 10), z_10_0);
  const Fe z_100_0 = mul(sq_n(z_50_0, 50), z_50_0);
  const Fe z_200_0 = mul(sq_n(z_100_0, 100), z_100_0);
  const Fe z_250_0 = mul(sq_n(z_200_0, 50), z_50_0);
  return mul(sq_n(z_250_0, 2), z);  // 2^252 - 4 + 1
}

// ------------------------------------------------------------------ points
// Extended coordinates on -x^2 + y^2 = 1 + d x^2 y^2: x = X/Z, y = Y/Z, x*y = T/Z.

struct Point {
  Fe x, y, z, t;
};

// A point ready to be added: (Y + X, Y - X, 2Z, 2dT).
struct Cached {
  Fe y_plus_x, y_minus_x, z2, t2d;
};

constexpr Point kIdentity = {kZero, kOne, kOne, kZero};

Cached to_cached(const Point& p) {
  return {add(p.y, p.x), sub(p.y, p.x), add(p.z, p.z), mul(p.t, kD2)};
}

// Hisil, Wong, Carter, Dawson 2008, "add-2008-hwcd-3" (a = -1).
Point add(const Point& p, const Cached& q) {
  const Fe a = mul(sub(p.y, p.x), q.y_minus_x);
  const Fe b = mul(add_to_mul(p.y, p.x), q.y_plus_x);
  const Fe c = mul(p.t, q.t2d);
  const Fe d = mul(p.z, q.z2);
  const Fe e = sub(b, a), f = sub(d, c), g = add_to_mul(d, c), h = add_to_mul(b, a);
  return {mul(e, f), mul(g, h), mul(f, g), mul(e, h)};
}

// -q: negation swaps Y + X with Y - X and negates T.
Cached negate(const Cached& q) { return {q.y_minus_x, q.y_plus_x, q.z2, neg(q.t2d)}; }

Point subtract(const Point& p, const Cached& q) { return add(p, negate(q)); }

// "dbl-2008-hwcd" (a = -1). T is only needed by an addition that follows: `with_t` false
// leaves it out (a doubling followed by another doubling).
Point dbl(const Point& p, bool with_t = true) {
  const Fe a = sq(p.x);
  const Fe b = sq(p.y);
  const Fe zz = sq(p.z);
  const Fe c = add(zz, zz);
  const Fe e = sub(sub(sq(add_to_mul(p.x, p.y)), a), b);
  const Fe g = sub(b, a);   // d + b with d = -a
  const Fe f = sub(g, c);
  const Fe h = neg(add(a, b));  // d - b
  return {mul(e, f), mul(g, h), mul(f, g), with_t ? mul(e, h) : kZero};
}

Point negate(const Point& p) { return {neg(p.x), p.y, p.z, neg(p.t)}; }

bool is_identity(const Point& p) { return is_zero(p.x) && equal(p.y, p.z); }

// RFC 8032, 5.1.3. Refuses a y that is not below p, a y with no x, and x = 0 with the sign bit
// set: exactly the canonical encodings of curve points decode.
bool decompress(const std::uint8_t* s, Point& out) {
  const bool sign = (s[31] >> 7) != 0;
  const Fe y = from_bytes(s);
  std::array<std::uint8_t, 32> canonical = to_bytes(y);
  std::array<std::uint8_t, 32> given{};
  std::memcpy(given.data(), s, 32);
  given[31] &= 0x7F;
  if (canonical != given) return false;  // y >= p
  const Fe y2 = sq(y);
  const Fe u = sub(y2, kOne);
  const Fe v = add(mul(kD, y2), kOne);
  const Fe v3 = mul(sq(v), v);
  const Fe v7 = mul(sq(v3), v);
  Fe x = mul(mul(u, v3), pow22523(mul(u, v7)));
  const Fe vx2 = mul(v, sq(x));
  if (!equal(vx2, u)) {
    if (!equal(vx2, neg(u))) return false;  // not a square: no point has this y
    x = mul(x, kSqrtM1);
  }
  if (is_zero(x) && sign) return false;
  if (is_negative(x) != sign) x = neg(x);
  out = {x, y, kOne, mul(x, y)};
  return true;
}

const Point& base_point() {
  static const Point base = [] {
    std::array<std::uint8_t, 32> encoded{};
    encoded.fill(0x66);
    encoded[0] = 0x58;
    Point p;
    decompress(encoded.data(), p);
    return p;
  }();
  return base;
}

// ------------------------------------------------------------------ multi-scalar multiplication

// Width-w non-adjacent form of a scalar below 2^255 (a final carry beyond bit 255 would be lost;
// scalars here are below 2^253): digits[i] is 0 or odd in [-(2^(w-1) - 1), 2^(w-1) - 1],
// scalar = sum digits[i] * 2^i, and any two non-zero digits are at least w positions apart, so
// about one position in w + 1 needs an addition.
std::array<std::int8_t, 256> naf(const std::uint8_t* scalar, int width) {
  const u64 words[5] = {load_le64(scalar), load_le64(scalar + 8), load_le64(scalar + 16), load_le64(scalar + 24), 0};
  std::array<std::int8_t, 256> digits{};
  const u64 window_size = u64{1} << width;
  const auto w = static_cast<std::size_t>(width);
  u64 carry_bit = 0;
  std::size_t position = 0;
  while (position < 256) {
    const std::size_t word = position / 64, bit = position % 64;
    u64 bits = words[word] >> bit;
    if (bit > 64 - w) bits |= words[word + 1] << (64 - bit);
    const u64 window = carry_bit + (bits & (window_size - 1));
    if ((window & 1) == 0) {  // this bit (with the carry) is zero: move on one bit
      ++position;
      continue;
    }
    if (window < window_size / 2) {
      carry_bit = 0;
      digits[position] = static_cast<std::int8_t>(window);
    } else {
      carry_bit = 1;
      digits[position] = static_cast<std::int8_t>(static_cast<int>(window) - static_cast<int>(window_size));
    }
    position += w;
  }
  return digits;
}

// A point's odd multiples 1P, 3P, .., (2k - 1)P, ready to be added.
template <std::size_t k>
std::array<Cached, k> odd_multiples(const Point& p) {
  std::array<Cached, k> out;
  out[0] = to_cached(p);
  const Cached twice = to_cached(dbl(p));
  Point current = p;
  for (std::size_t i = 1; i < k; ++i) {
    current = add(current, twice);
    out[i] = to_cached(current);
  }
  return out;
}

// Per-signature points (each R) get width 5: a table of 8 is built for each use. Points that
// recur (the base point, and signers' keys, which sign again and again) get width 7 from a table
// of 32 built once: about 32 additions for a 253-bit scalar instead of 42, and no table to
// build per signature.
constexpr int kFreshWidth = 5;
constexpr int kTableWidth = 7;
constexpr std::size_t kFreshTable = std::size_t{1} << (kFreshWidth - 2);
constexpr std::size_t kKeyTable = std::size_t{1} << (kTableWidth - 2);
using FreshTable = std::array<Cached, kFreshTable>;
using KeyTable = std::array<Cached, kKeyTable>;

struct Term {
  const Cached* table = nullptr;  // odd multiples of the point, for |digit| up to 2 * size - 1
  std::array<std::int8_t, 256> digits;
  int top = 0;  // index of the highest non-zero digit + 1
};

void prepare(Term& term, const Cached* table, int width, const std::uint8_t* scalar) {
  term.table = table;
  term.digits = naf(scalar, width);
  term.top = 0;
  for (std::size_t i = 256; i-- > 0;) {
    if (term.digits[i] != 0) {
      term.top = static_cast<int>(i) + 1;
      break;
    }
  }
}

// Straus: one chain of doublings shared by every term.
Point multiscalar(const std::vector<Term>& terms) {
  int top = 0;
  for (const Term& term : terms) top = std::max(top, term.top);
  Point q = kIdentity;
  for (int i = top - 1; i >= 0; --i) {
    const auto index = static_cast<std::size_t>(i);
    bool adds = false;  // whether an addition follows this doubling (which then needs T)
    for (const Term& term : terms) adds = adds || term.digits[index] != 0;
    if (i != top - 1) q = dbl(q, adds);
    for (const Term& term : terms) {
      const int digit = term.digits[index];
      if (digit > 0) q = add(q, term.table[static_cast<std::size_t>(digit / 2)]);
      if (digit < 0) q = subtract(q, term.table[static_cast<std::size_t>(-digit / 2)]);
    }
  }
  return q;
}

// ------------------------------------------------------------------ signatures

using Scalar = std::array<std::uint8_t, 32>;

// Four 128-bit coefficients per SHA-512 digest.
constexpr std::size_t kCoefficientsPerDigest = 4;

// A sum of products z * S (z below 2^128, S below 2^253, little-endian), kept unreduced: each
// product is below 2^381 and a batch's sum of at most kMaxBatchSignatures (2^10) of them below
// 2^391, well inside the 512 bits reduced mod L once at the end (libsodium), instead of a
// multiplication and an addition mod L per signature.
static_assert(kMaxBatchSignatures <= (std::size_t{1} << 40), "the sum of z * S must stay below 2^512");
class WideSum {
 public:
  void add_product(const std::uint8_t* z, const std::uint8_t* s) {
    const u64 z_limbs[2] = {load_le64(z), load_le64(z + 8)};
    const u64 s_limbs[4] = {load_le64(s), load_le64(s + 8), load_le64(s + 16), load_le64(s + 24)};
    for (std::size_t i = 0; i < 2; ++i) {
      u64 carry = 0;
      for (std::size_t j = 0; j < 4; ++j) {
        // At most (2^64 - 1)^2 + 2 (2^64 - 1) = 2^128 - 1: no overflow.
        const u128 t = static_cast<u128>(z_limbs[i]) * s_limbs[j] + limbs_[i + j] + carry;
        limbs_[i + j] = static_cast<u64>(t);
        carry = static_cast<u64>(t >> 64);
      }
      for (std::size_t k = i + 4; k < limbs_.size() && carry != 0; ++k) {
        const u128 t = static_cast<u128>(limbs_[k]) + carry;
        limbs_[k] = static_cast<u64>(t);
        carry = static_cast<u64>(t >> 64);
      }
      CARBON_ASSERT(carry == 0);  // the sum stays below 2^512 (see above)
    }
  }
  Scalar reduced() const {
    std::array<std::uint8_t, 64> bytes{};
    for (std::size_t k = 0; k < limbs_.size(); ++k) store_le64(limbs_[k], bytes.data() + 8 * k);
    Scalar out{};
    crypto_core_ed25519_scalar_reduce(out.data(), bytes.data());
    return out;
  }

 private:
  std::array<u64, 8> limbs_{};
};

// A point of order 1, 2, 4 or 8: as R, refused (libsodium and verify_signature refuse them too).
bool is_small_order(const Point& p) { return is_identity(dbl(dbl(dbl(p)))); }

// h = SHA-512(R || A || M) mod L.
Scalar challenge(const Signature& signature, const PublicKey& key, ByteView message) {
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, signature.bytes.data(), 32);
  crypto_hash_sha512_update(&state, key.bytes.data(), key.bytes.size());
  crypto_hash_sha512_update(&state, message.data(), message.size());
  std::array<std::uint8_t, 64> digest{};
  crypto_hash_sha512_final(&state, digest.data());
  Scalar h{};
  crypto_core_ed25519_scalar_reduce(h.data(), digest.data());
  return h;
}

// The table of -A for a valid public key A (is_known_valid_public_key), or null for an invalid
// one. The same keys sign again and again, and decompressing a key and building its table cost
// about as much as a third of a verification, so tables are kept, shared by every thread, in two
// generations of up to kKeyTableCacheEntries / 2: when the newer one fills up it becomes the
// older one and the older one is dropped, and a table found in the older one moves to the newer.
// Keys in use stay cached however many others come and go (a cache emptied all at once would
// lose them too, each time more keys than it holds were seen).
std::shared_ptr<const KeyTable> key_table(const PublicKey& key) {
  using Generation = std::map<PublicKey, std::shared_ptr<const KeyTable>>;
  static std::shared_mutex mutex;
  static Generation newer, older;  // guarded by mutex
  const auto remember = [](const PublicKey& k, std::shared_ptr<const KeyTable> table) {  // mutex held
    if (newer.size() >= kKeyTableCacheEntries / 2) {
      older = std::move(newer);
      newer.clear();
    }
    newer.emplace(k, std::move(table));
  };
  {
    std::shared_lock lock(mutex);
    if (auto it = newer.find(key); it != newer.end()) return it->second;
  }
  {
    std::unique_lock lock(mutex);
    if (auto it = newer.find(key); it != newer.end()) return it->second;
    if (auto it = older.find(key); it != older.end()) {
      std::shared_ptr<const KeyTable> table = it->second;
      older.erase(it);
      remember(key, table);
      return table;
    }
  }
  Point point;
  if (!is_known_valid_public_key(key) || !decompress(key.bytes.data(), point)) return nullptr;
  auto table = std::make_shared<const KeyTable>(odd_multiples<kKeyTable>(negate(point)));
  std::unique_lock lock(mutex);
  remember(key, table);
  return table;
}

const KeyTable& base_table() {
  static const KeyTable table = odd_multiples<kKeyTable>(base_point());
  return table;
}

}  // namespace

bool verify_batch(std::span<const BatchSignature> batch) {
  if (batch.empty() || batch.size() > kMaxBatchSignatures) return false;
  const std::size_t n = batch.size();
  std::vector<std::shared_ptr<const KeyTable>> key_tables(n);
  std::vector<Point> commitments(n);
  std::vector<Scalar> challenges(n);
  // The coefficients come from a hash of everything in the batch: a signer cannot choose them,
  // and the same batch is judged the same way on every node. Each signature goes in with its
  // challenge h = SHA-512(R || A || M) mod L, which binds the key and the message (two inputs
  // with the same h are a collision of SHA-512 mod L, about 2^126 work), so the key itself need
  // not be hashed again.
  crypto_hash_sha512_state seed_state;
  crypto_hash_sha512_init(&seed_state);
  for (std::size_t i = 0; i < n; ++i) {
    const BatchSignature& item = batch[i];
    if (item.key == nullptr || item.signature == nullptr) return false;
    const std::uint8_t* r_bytes = item.signature->bytes.data();
    if (!is_canonical_scalar(r_bytes + 32)) return false;
    key_tables[i] = key_table(*item.key);
    if (key_tables[i] == nullptr) return false;
    if (!decompress(r_bytes, commitments[i]) || is_small_order(commitments[i])) return false;
    challenges[i] = challenge(*item.signature, *item.key, item.message);
    crypto_hash_sha512_update(&seed_state, item.signature->bytes.data(), item.signature->bytes.size());
    crypto_hash_sha512_update(&seed_state, challenges[i].data(), challenges[i].size());
  }
  std::array<std::uint8_t, 64> seed{};
  crypto_hash_sha512_final(&seed_state, seed.data());

  std::vector<Term> terms(2 * n + 1);
  std::vector<FreshTable> commitment_tables(n);
  WideSum weighted_s;  // sum z_i S_i, reduced mod L once, after the loop
  std::array<std::uint8_t, 64> digest{};  // the coefficients of 4 signatures, 16 bytes each
  for (std::size_t i = 0; i < n; ++i) {
    Scalar z{};
    if (n > 1) {
      if (i % kCoefficientsPerDigest == 0) {
        // SHA-512(seed || group number, 8 bytes little-endian): 128 bits for each of the group's
        // signatures, one hash per four signatures instead of one each.
        std::array<std::uint8_t, 64 + 8> input{};
        std::memcpy(input.data(), seed.data(), seed.size());
        store_le64(static_cast<u64>(i / kCoefficientsPerDigest), input.data() + 64);
        crypto_hash_sha512(digest.data(), input.data(), input.size());
      }
      std::memcpy(z.data(), digest.data() + 16 * (i % kCoefficientsPerDigest), 16);  // 128 bits
      z[0] |= 1;                                                                    // never zero
    } else {
      z[0] = 1;  // one signature: its own equation
    }
    weighted_s.add_product(z.data(), batch[i].signature->bytes.data() + 32);
    Scalar zh{};
    crypto_core_ed25519_scalar_mul(zh.data(), z.data(), challenges[i].data());
    commitment_tables[i] = odd_multiples<kFreshTable>(negate(commitments[i]));
    prepare(terms[2 * i], commitment_tables[i].data(), kFreshWidth, z.data());
    prepare(terms[2 * i + 1], key_tables[i]->data(), kTableWidth, zh.data());
  }
  const Scalar base_scalar = weighted_s.reduced();  // sum z_i S_i mod L
  prepare(terms[2 * n], base_table().data(), kTableWidth, base_scalar.data());
  const Point sum = multiscalar(terms);
  return is_identity(dbl(dbl(dbl(sum))));
}

bool verify_cofactored(const PublicKey& key, ByteView message, const Signature& signature) {
  const BatchSignature one{&key, message, &signature};
  return verify_batch(std::span<const BatchSignature>(&one, 1));
}

}  // namespace carbon::core
