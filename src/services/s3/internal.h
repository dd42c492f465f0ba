// What the S3 service's files share: the request context, S3's error and XML helpers.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "aws/auth.h"
#include "aws/error.h"
#include "http/message.h"
#include "http/stream.h"
#include "services/s3/s3_api.h"

namespace lambent::s3 {

struct S3Api::Ctx {
  http::Request& req;
  std::string bucket;
  std::string key;
  bool has_key = false;
  std::shared_ptr<const aws::Caller> caller;  // null with --auth open
  std::shared_ptr<const HmacSha256> signing_key;
  std::string payload;  // x-amz-content-sha256 as sent ("" when not sent)

  bool has_query(std::string_view name) const;
  std::string query(std::string_view name) const;   // "" when absent
  std::string header(std::string_view name) const;  // "" when absent
  std::string object_arn() const { return "arn:aws:s3:::" + bucket + "/" + key; }
  std::string bucket_arn() const { return "arn:aws:s3:::" + bucket; }
};

inline constexpr std::string_view kXmlns = "http://s3.amazonaws.com/doc/2006-03-01/";

aws::ServiceError s3_error(unsigned status, std::string code, std::string message,
                           std::vector<std::pair<std::string, std::string>> extra = {});
aws::ServiceError no_such_bucket(const std::string& bucket);
aws::ServiceError no_such_key(const std::string& key);
aws::ServiceError malformed_xml();
// A store failure as S3 says it (kNotFound → NoSuchBucket for `bucket`, …).
[[noreturn]] void throw_store(const Error& e, const std::string& bucket);

// An answer with S3's headers; `xml` as the body (with the XML declaration) when not empty.
http::Response s3_response(const http::Request& req, unsigned status, std::string xml = "");

// XML element with escaped text.
void xml_elem(std::string& out, std::string_view name, std::string_view text);
// S3's URL encoding of listing fields (encoding-type=url).
std::string url_encode_key(std::string_view s);
// The metadata a request's headers give an object: content headers (aws-chunked dropped from
// Content-Encoding) and user metadata (≤ 2 KB, else MetadataTooLarge), as stored JSON.
boost::json::object meta_from_headers(const http::Request& req);
// <Tagging><TagSet><Tag><Key/><Value/></Tag>…</TagSet></Tagging> ↔ {key: value}.
boost::json::object parse_tagging_xml(const std::string& body);
std::string tagging_to_xml(const boost::json::object& tags);
// The x-amz-tagging header (URL query form, `+` as space) as {key: value}; throws S3's error
// for a malformed one or more than 10 tags.
boost::json::object tags_from_header(const std::string& header);
// Bytes handed to the pool at a time when a body streams in or out.
inline constexpr size_t kPieceBytes = 1 << 20;
// A download of bytes [from, to): pieces read ahead on the pool with two readers of the object.
std::shared_ptr<http::BodySource> object_source(boost::asio::thread_pool& pool,
                                                std::shared_ptr<objects::DataReader> first,
                                                std::shared_ptr<objects::DataReader> second,
                                                uint64_t from, uint64_t to);
// Percent-decoding (nullopt for a malformed escape).
std::optional<std::string> pct_decode(std::string_view s);

}  // namespace lambent::s3
