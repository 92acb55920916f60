// The exchange's order books in memory: one OrderBook per product, an index over the open
// orders stored in the state (obk/ and ord/ records, contracts/market_records.h), so that
// matching does not scan the store.
//
// The state is the truth. A book is built from the product's open orders the first time the
// product is traded (after a start, or after it was dropped), inserting them in id order, so
// price-time priority is the same as when they were placed. Every transaction that touches a
// book runs against a StateOverlay that is discarded if the transaction fails; the book cannot
// be rolled back that way, so the executor drops every book the failed transaction touched
// (forget_touched) and the next use rebuilds it from the committed state. After a successful
// transaction the books equal the state (keep_touched).
//
// Thread safety: none; owned by the executor's thread.
#pragma once

#include <map>
#include <memory>
#include <vector>

#include "contracts/basics.h"
#include "contracts/order_book.h"

namespace carbon::contracts {

class Ledger;

class MarketBooks {
 public:
  // The book of `product` as of `ledger`'s state (built from its open orders when not held).
  // Marks the product touched by the current transaction.
  Result<OrderBook*> book(const Ledger& ledger, const ProductId& product);
  // After a failed transaction: drop the books it touched.
  void forget_touched();
  // After a successful one.
  void keep_touched() { touched_.clear(); }
  void clear() {
    books_.clear();
    touched_.clear();
  }
  std::size_t books_held() const { return books_.size(); }

 private:
  std::map<ProductId, std::unique_ptr<OrderBook>> books_;
  std::vector<ProductId> touched_;
};

}  // namespace carbon::contracts
