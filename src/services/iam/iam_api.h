// IAM (2010-05-08, query protocol, signing name `iam`, global): the subset people use with
// Lambda — users and access keys, roles with trust policies, inline policies on users and
// roles, managed policies with versions and their attachments, and AWS's managed policies
// (built in, read-only). Operations and shapes as botocore's iam model; errors with IAM's codes
// (NoSuchEntity, EntityAlreadyExists, DeleteConflict, LimitExceeded, MalformedPolicyDocument,
// ValidationError). Policy documents in answers are URL-encoded, as IAM sends them.
// Thread: handlers run on the worker pool.
#pragma once

#include <boost/asio/thread_pool.hpp>

#include "aws/service.h"
#include "iam/directory.h"

namespace lambent::iam_api {

class IamApi final {
 public:
  IamApi(iam::Directory& directory, boost::asio::thread_pool& pool);
  aws::RpcService& service() { return service_; }
  static aws::ServiceInfo info();

 private:
  iam::Directory& dir_;
  aws::RpcService service_;
};

}  // namespace lambent::iam_api
