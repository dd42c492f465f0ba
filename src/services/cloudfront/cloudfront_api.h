// The CloudFront API subset (rest-xml, 2020-05-31, signing name `cloudfront`, global) over the
// edge's distributions: Create (also WithTags), Get, GetDistributionConfig, Update and Delete
// with ETag/If-Match, List; Create/Get/ListInvalidations; Tag/Untag/ListTagsForResource.
// Lambda@Edge associations are checked with the caller's own permission to read each function
// version (lambda:GetFunction), as CloudFront does.
// Thread: handlers run on the worker pool.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "aws/service.h"
#include "edge/distributions.h"
#include "http/router.h"

namespace lambent::cloudfront {

class CloudFrontApi final {
 public:
  // `facts` tells what an association's function is (without the caller's permission).
  CloudFrontApi(edge::Distributions& distributions, edge::FunctionLookup facts,
                boost::asio::thread_pool& pool, std::string account);
  static aws::ServiceInfo info();
  void set_guard(aws::Guard* guard);
  void add_routes(http::Router& router);

 private:
  http::Response create(http::Request& req);
  http::Response get(http::Request& req, bool config_only);
  http::Response update(http::Request& req);
  http::Response remove(http::Request& req);
  http::Response list(http::Request& req);
  http::Response create_invalidation(http::Request& req);
  http::Response get_invalidation(http::Request& req);
  http::Response list_invalidations(http::Request& req);
  http::Response tag(http::Request& req, bool add);
  http::Response list_tags(http::Request& req);
  // The association lookup for this caller: the facts, and whether it may read the version.
  edge::FunctionLookup lookup_for(const http::Request& req);

  edge::Distributions& distributions_;
  edge::FunctionLookup facts_;
  std::string account_;
  aws::RestService rest_;
  aws::Guard* guard_ = nullptr;
};

}  // namespace lambent::cloudfront
