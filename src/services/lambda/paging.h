// One page of a listing in key order (ListAliases, ListLayers, ListProvisionedConcurrencyConfigs,
// ListFunctionEventInvokeConfigs): the items after ?Marker, at most MaxItems; NextMarker names the
// last item given when more follow.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <string>

#include "http/message.h"

namespace lambent::lambda {

class Pager final {
 public:
  Pager(const http::Request& req, size_t max_items)
      : after_(req.query_param("Marker").value_or("")), max_(max_items) {}

  // Whether the item keyed `key` goes on this page: false before the marker and once the page
  // is full (then full() says to stop).
  bool take(const std::string& key) {
    if (!after_.empty() && key <= after_) return false;
    if (count_ == max_) {
      more_ = true;
      return false;
    }
    ++count_;
    last_ = key;
    return true;
  }
  bool full() const { return more_; }
  const std::string& marker() const { return after_; }
  // The page of `items` (in key order) under `member`, each written by `to_json`, with
  // NextMarker when more follow.
  template <class Items, class KeyFn, class JsonFn>
  boost::json::object page(const char* member, const Items& items, KeyFn key, JsonFn to_json) {
    boost::json::array out;
    for (const auto& item : items) {
      if (take(key(item))) out.push_back(to_json(item));
      if (full()) break;
    }
    boost::json::object o{{member, std::move(out)}};
    finish(o);
    return o;
  }
  // Adds NextMarker when more follow.
  void finish(boost::json::object& out) const {
    if (more_) out["NextMarker"] = last_;
  }

 private:
  std::string after_;
  size_t max_;
  size_t count_ = 0;
  bool more_ = false;
  std::string last_;
};

}  // namespace lambent::lambda
